using System.Diagnostics;
using Castor.Application.Embeddings;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Diagnostics;

namespace Castor.Application.Telemetry;

/// <summary>
/// embedContent and batchEmbedContents as metrics (gen_ai.server.request.duration and gen_ai.client.token.usage with
/// gen_ai.operation.name embeddings, per-project requests and tokens) and as one span, and into the HTTP request's
/// <see cref="RequestTelemetry"/> for its log line.
/// </summary>
public sealed class InstrumentedEmbeddingService(IEmbeddingService inner, ModelCatalogue? catalogue = null) : IEmbeddingService
{
    /// <summary>gen_ai.operation.name of embedding calls.</summary>
    public const string Operation = "embeddings";

    public Task<EmbeddingResult> EmbedContentAsync(Caller caller, string model, EmbeddingRequest request, PromptAdmission? admission,
        CancellationToken cancellationToken) =>
        RecordAsync(caller, model, () => inner.EmbedContentAsync(caller, model, request, admission, cancellationToken));

    public Task<EmbeddingResult> BatchEmbedContentsAsync(Caller caller, string model, IReadOnlyList<EmbeddingRequest?>? requests, PromptAdmission? admission,
        CancellationToken cancellationToken) =>
        RecordAsync(caller, model, () => inner.BatchEmbedContentsAsync(caller, model, requests, admission, cancellationToken));

    private async Task<EmbeddingResult> RecordAsync(Caller caller, string requested, Func<Task<EmbeddingResult>> call)
    {
        var started = Stopwatch.GetTimestamp();
        var name = ModelCatalogue.StripPrefix(requested ?? "");
        using var activity = CastorDiagnostics.Source.StartActivity(Operation + " " + name, ActivityKind.Internal);
        activity?.SetTag(CastorDiagnostics.OperationName, Operation);
        activity?.SetTag(CastorDiagnostics.RequestModel, name);
        activity?.SetTag(CastorDiagnostics.ProjectId, caller.ProjectId);
        var model = "unknown";
        string? errorType = null;
        EmbeddingResult? result = null;
        try
        {
            result = await call().ConfigureAwait(false);
            model = result.ModelId;
            return result;
        }
        catch (Exception ex)
        {
            model = KnownModel(name);
            errorType = ErrorTypes.Of(ex);
            activity?.SetTag(CastorDiagnostics.ErrorType, errorType);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            var tags = new TagList { { CastorDiagnostics.OperationName, Operation }, { CastorDiagnostics.RequestModel, model } };
            if (errorType is not null) tags.Add(CastorDiagnostics.ErrorType, errorType);
            GenerationMetrics.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            var projectTags = new TagList { { CastorDiagnostics.ProjectId, caller.ProjectId }, { CastorDiagnostics.RequestModel, model } };
            if (errorType is not null) projectTags.Add(CastorDiagnostics.ErrorType, errorType);
            GenerationMetrics.ProjectRequests.Add(1, projectTags);
            if (result is not null)
            {
                GenerationMetrics.TokenUsage.Record(result.PromptTokenCount, new TagList
                {
                    { CastorDiagnostics.OperationName, Operation }, { CastorDiagnostics.RequestModel, model }, { CastorDiagnostics.TokenType, "input" },
                });
                GenerationMetrics.ProjectTokens.Add(result.PromptTokenCount, new TagList
                {
                    { CastorDiagnostics.ProjectId, caller.ProjectId }, { CastorDiagnostics.RequestModel, model }, { CastorDiagnostics.TokenType, "input" },
                });
                activity?.SetTag("gen_ai.usage.input_tokens", result.PromptTokenCount);
            }
            if (RequestTelemetry.Current is { } record)
            {
                record.Model = model == "unknown" ? null : model;
                record.Operation = Operation;
                record.PromptTokens = result?.PromptTokenCount ?? 0;
            }
        }
    }

    /// <summary>The model's id when the name resolves, else "unknown": a client's made-up names must not become label values.</summary>
    private string KnownModel(string name)
    {
        if (catalogue is null) return "unknown";
        try
        {
            return catalogue.ResolveEmbedding(name).Id;
        }
        catch (Exception)
        {
            return "unknown";
        }
    }
}
