using System.Diagnostics;
using System.Runtime.CompilerServices;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Diagnostics;

namespace Castor.Application.Telemetry;

/// <summary>
/// Records each generation request as metrics (duration, time to first token, time per output token, token usage,
/// per-project counts, prefill and decode rates) and as a span with queueing, prefill and decode children, and fills
/// the HTTP request's <see cref="RequestTelemetry"/>. All of it once per request, from the stream's
/// <see cref="GenerationTimeline"/> and its updates; nothing runs per token.
/// </summary>
public sealed class InstrumentedGenerationService(IGenerationService inner, ModelCatalogue? catalogue = null) : DelegatingGenerationService(inner)
{
    /// <summary>gen_ai.operation.name of generateContent, streamGenerateContent and chat completions.</summary>
    public const string Operation = "generate_content";

    public override async Task<GenerationStream> StartAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var activity = CastorDiagnostics.Source.StartActivity(Operation + " " + ModelCatalogue.StripPrefix(request.Model), ActivityKind.Internal);
        try
        {
            activity?.SetTag(CastorDiagnostics.OperationName, Operation);
            activity?.SetTag(CastorDiagnostics.RequestModel, ModelCatalogue.StripPrefix(request.Model));
            activity?.SetTag(CastorDiagnostics.ProjectId, caller.ProjectId);
            if (RequestTelemetry.Current is { CapturePrompt: true } record) record.Prompt = LastText(request);
            var stream = await Inner.StartAsync(caller, request, cancellationToken).ConfigureAwait(false);
            return new Stream(stream, caller.ProjectId, started, activity);
        }
        catch (Exception ex)
        {
            // Refused before a stream began (validation, an unknown model, a full queue): one failed request.
            var model = KnownModel(request.Model);
            Failed(caller.ProjectId, model, ErrorTypes.Of(ex), started, activity, ex);
            throw;
        }
        finally
        {
            // The span is ended by the stream (or above); the caller's own activity stays current.
            if (Activity.Current == activity) Activity.Current = activity?.Parent;
        }
    }

    public override async Task<GenerationResult> GenerateAsync(Caller caller, GenerationRequest request, CancellationToken cancellationToken) =>
        await GenerationService.CollectAsync(await StartAsync(caller, request, cancellationToken).ConfigureAwait(false),
            request.Config.ResponseLogprobs == true, cancellationToken).ConfigureAwait(false);

    /// <summary>The last content's text parts, for a log line that may show prompts (kept short, one line).</summary>
    private static string LastText(GenerationRequest request)
    {
        if (request.Contents.Count == 0) return "";
        var text = string.Join(" ", request.Contents[^1].Parts.OfType<TextPart>().Where(p => !p.Thought).Select(p => p.Text));
        text = text.Replace('\r', ' ').Replace('\n', ' ');
        return text.Length > 2000 ? text[..2000] + "…" : text;
    }

    /// <summary>The model's id when the name resolves, else "unknown": a client's made-up names must not become label values.</summary>
    private string KnownModel(string name)
    {
        if (catalogue is null) return "unknown";
        try
        {
            return catalogue.ResolveGenerative(name).Description.Id;
        }
        catch (Exception)
        {
            return "unknown";
        }
    }

    private static void Failed(string project, string model, string errorType, long started, Activity? activity, Exception error)
    {
        var tags = new TagList
        {
            { CastorDiagnostics.OperationName, Operation },
            { CastorDiagnostics.RequestModel, model },
            { CastorDiagnostics.ErrorType, errorType },
        };
        GenerationMetrics.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        GenerationMetrics.ProjectRequests.Add(1, new TagList
        {
            { CastorDiagnostics.ProjectId, project },
            { CastorDiagnostics.RequestModel, model },
            { CastorDiagnostics.ErrorType, errorType },
        });
        if (RequestTelemetry.Current is { } record)
        {
            record.Model ??= model == "unknown" ? null : model;
            record.Operation = Operation;
        }
        if (activity is not null)
        {
            activity.SetTag(CastorDiagnostics.ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.Stop();
        }
    }

    /// <summary>The inner stream's updates, unchanged; the first answer text and the end are timed.</summary>
    private sealed class Stream(GenerationStream inner, string project, long started, Activity? activity) : GenerationStream(inner)
    {
        private int _ended;

        public override async IAsyncEnumerable<GenerationUpdate> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var record = RequestTelemetry.Current;
            if (record is not null)
            {
                record.Model = ModelVersion;
                record.Operation = Operation;
                record.PromptTokens = PromptTokenCount;
            }
            long firstToken = 0;
            Usage? usage = null;
            var finishes = new List<string>(CandidateCount);
            Exception? failure = null;
            await using var updates = base.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            var completed = false;
            try
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await updates.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        failure = ex;
                        throw;
                    }
                    if (!more)
                    {
                        completed = true;
                        break;
                    }
                    var update = updates.Current;
                    if (firstToken == 0 && (update.Parts.Count > 0 || update.Thought.Length > 0 || update.FinishReason is not null))
                    {
                        firstToken = Stopwatch.GetTimestamp();
                        if (record is not null) record.TimeToFirstToken = Stopwatch.GetElapsedTime(started, firstToken);
                    }
                    usage = update.Usage;
                    if (update.FinishReason is { } reason) finishes.Add(reason.ToString());
                    yield return update;
                }
            }
            finally
            {
                // A reader that stopped early (its client went away) ends the request as cancelled.
                End(firstToken, usage, finishes, completed ? null : failure ?? new OperationCanceledException("The reader stopped before the end."));
            }
        }

        private void End(long firstToken, Usage? usage, List<string> finishes, Exception? error)
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0) return;
            var ended = Stopwatch.GetTimestamp();
            var model = ModelVersion;
            var input = PromptTokenCount;
            var output = usage is null ? 0 : usage.CandidatesTokenCount + usage.ThoughtsTokenCount;
            var errorType = error is null ? null : ErrorTypes.Of(error);
            if (RequestTelemetry.Current is { } record) record.OutputTokens = output;

            var tags = new TagList { { CastorDiagnostics.OperationName, Operation }, { CastorDiagnostics.RequestModel, model } };
            if (errorType is not null) tags.Add(CastorDiagnostics.ErrorType, errorType);
            GenerationMetrics.RequestDuration.Record(Stopwatch.GetElapsedTime(started, ended).TotalSeconds, tags);
            if (firstToken != 0)
            {
                GenerationMetrics.TimeToFirstToken.Record(Stopwatch.GetElapsedTime(started, firstToken).TotalSeconds, tags);
                if (output > 1)
                    GenerationMetrics.TimePerOutputToken.Record(Stopwatch.GetElapsedTime(firstToken, ended).TotalSeconds / (output - 1), tags);
            }
            var usageTags = new TagList { { CastorDiagnostics.OperationName, Operation }, { CastorDiagnostics.RequestModel, model } };
            usageTags.Add(CastorDiagnostics.TokenType, "input");
            GenerationMetrics.TokenUsage.Record(input, usageTags);
            usageTags[2] = new(CastorDiagnostics.TokenType, "output");
            GenerationMetrics.TokenUsage.Record(output, usageTags);

            var projectTags = new TagList { { CastorDiagnostics.ProjectId, project }, { CastorDiagnostics.RequestModel, model } };
            if (errorType is not null) projectTags.Add(CastorDiagnostics.ErrorType, errorType);
            GenerationMetrics.ProjectRequests.Add(1, projectTags);
            var projectTokens = new TagList { { CastorDiagnostics.ProjectId, project }, { CastorDiagnostics.RequestModel, model }, { CastorDiagnostics.TokenType, "input" } };
            GenerationMetrics.ProjectTokens.Add(input, projectTokens);
            projectTokens[2] = new(CastorDiagnostics.TokenType, "output");
            GenerationMetrics.ProjectTokens.Add(output, projectTokens);

            var timeline = Timeline;
            var modelTag = new TagList { { CastorDiagnostics.RequestModel, model } };
            if (timeline.Admitted != 0 && timeline.PromptEvaluated > timeline.Admitted && input > timeline.ReusedPromptTokens)
                GenerationMetrics.PrefillRate.Record((input - timeline.ReusedPromptTokens) / Stopwatch.GetElapsedTime(timeline.Admitted, timeline.PromptEvaluated).TotalSeconds, modelTag);
            if (timeline.PromptEvaluated != 0 && ended > timeline.PromptEvaluated && output > 0)
                GenerationMetrics.DecodeRate.Record(output / Stopwatch.GetElapsedTime(timeline.PromptEvaluated, ended).TotalSeconds, modelTag);

            if (activity is null) return;
            activity.SetTag("gen_ai.response.model", model);
            activity.SetTag("gen_ai.usage.input_tokens", input);
            activity.SetTag("gen_ai.usage.output_tokens", output);
            if (finishes.Count > 0) activity.SetTag("gen_ai.response.finish_reasons", finishes.ToArray());
            if (timeline.ReusedPromptTokens > 0) activity.SetTag("castor.prompt.tokens.reused", timeline.ReusedPromptTokens);
            // Children made after the fact from the timeline's timestamps: the phases' spans cost nothing while they run.
            Child(activity, "castor.queue", timeline.Submitted, timeline.Admitted != 0 ? timeline.Admitted : timeline.PromptEvaluated != 0 ? timeline.PromptEvaluated : ended);
            if (timeline.Admitted != 0) Child(activity, "castor.prefill", timeline.Admitted, timeline.PromptEvaluated != 0 ? timeline.PromptEvaluated : ended);
            if (timeline.PromptEvaluated != 0) Child(activity, "castor.decode", timeline.PromptEvaluated, ended);
            if (error is not null)
            {
                activity.SetTag(CastorDiagnostics.ErrorType, errorType);
                activity.SetStatus(ActivityStatusCode.Error, error.Message);
            }
            activity.SetEndTime(At(ended));
            activity.Stop();
        }

        private static void Child(Activity parent, string name, long from, long to)
        {
            using var child = CastorDiagnostics.Source.StartActivity(name, ActivityKind.Internal, parent.Context, startTime: At(from));
            child?.SetEndTime(At(to));
        }

        /// <summary>A stopwatch timestamp as the UTC time it happened (spans take wall-clock times).</summary>
        private static DateTime At(long timestamp) => DateTime.UtcNow - Stopwatch.GetElapsedTime(timestamp);
    }
}
