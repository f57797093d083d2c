using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castor.Api.OpenAI.Infrastructure;
using Castor.Api.OpenAI.Wire;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.OpenAI.Apis;

/// <summary><c>POST chat/completions</c>, whole or streamed, through the same <see cref="GenerationService"/> as generateContent.</summary>
internal static class ChatCompletionsApi
{
    // OpenAI ends a stream with this event, whose data is not JSON.
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    // Thought summaries travel inside content between these tags, as the Gemini API's OpenAI endpoint sends them.
    private const string ThoughtOpen = "<thought>";
    private const string ThoughtClose = "</thought>";

    public static async Task HandleAsync(HttpContext context, IGenerationService generation)
    {
        using var metered = Castor.Application.Metering.UsageContext.Begin(Castor.Application.Metering.UsageMethods.OpenAIChatCompletions);
        var wire = await RequestBody.ReadAsync(context.Request, OpenAIJson.TypeInfo<ChatCompletionRequest>()).ConfigureAwait(false);
        var mapped = ChatMapping.ToGenerationRequest(wire);
        var model = wire.Model!;
        var id = "chatcmpl-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        GenerationStream stream;
        try
        {
            // file_id parts name files of the caller's project, as fileData does on the native routes.
            var request = mapped.Request;
            stream = await generation.StartAsync(context.Caller(), request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (CastorException error)
        {
            throw ChatMapping.ToOpenAINames(error, mapped.MessageOfContent);
        }

        if (mapped.Stream)
            await StreamAsync(context, stream, mapped, id, created, model).ConfigureAwait(false);
        else
            await WholeAsync(context, stream, mapped, id, created, model).ConfigureAwait(false);
    }

    private static async Task WholeAsync(HttpContext context, GenerationStream stream, ChatMapping.Mapped mapped, string id, long created, string model)
    {
        var response = await CompleteAsync(stream, mapped, id, created, model, context.RequestAborted).ConfigureAwait(false);
        context.Response.ContentType = "application/json; charset=UTF-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, response, OpenAIJson.TypeInfo<ChatCompletion>(), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Reads a started generation to its end as one <c>chat.completion</c> (the whole answer, and each batch request's).</summary>
    internal static async Task<ChatCompletion> CompleteAsync(GenerationStream stream, ChatMapping.Mapped mapped, string id, long created, string model,
        CancellationToken cancellationToken)
    {
        var choices = Enumerable.Range(0, stream.CandidateCount).Select(_ => new ChoiceBuilder(mapped.IncludeThoughts, mapped.Request.Config.ResponseLogprobs == true)).ToArray();
        Usage usage = new(stream.PromptTokenCount, 0);
        await foreach (var update in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            choices[update.CandidateIndex].Add(update);
            usage = update.Usage;
        }
        return new ChatCompletion
        {
            Id = id,
            Created = created,
            Model = model,
            Choices = choices.Select((c, i) => c.ToChoice(i)).ToList(),
            Usage = ToUsage(usage),
        };
    }

    /// <summary>
    /// SSE of <c>chat.completion.chunk</c>s, then (with <c>stream_options.include_usage</c>) one chunk with no choices and
    /// the usage, then <c>[DONE]</c>. An error after the first byte goes out as an event with an <c>error</c> key, which the
    /// SDKs raise mid-iteration.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, GenerationStream stream, ChatMapping.Mapped mapped, string id, long created, string model)
    {
        var aborted = context.RequestAborted;
        // Status line and headers go out now, before prefill: a long prompt must not leave the client without an answer until its first token.
        await ServerSentEvents.StartAsync(context.Response, ServerSentEvents.ContentType, aborted).ConfigureAwait(false);
        using var output = new ResponseStreamWriter(context.Response.BodyWriter);

        var choices = Enumerable.Range(0, stream.CandidateCount).Select(_ => new ChoiceBuilder(mapped.IncludeThoughts, mapped.Request.Config.ResponseLogprobs == true)).ToArray();
        Usage usage = new(stream.PromptTokenCount, 0);
        try
        {
            var updates = stream.ReadAllAsync(aborted).GetAsyncEnumerator(aborted);
            try
            {
                // Until the first update (the queue, then the prompt's prefill) the body would stay silent.
                var more = await StreamKeepAlive.AwaitAsync(updates.MoveNextAsync(), context.Response.Body, StreamKeepAlive.Interval, aborted).ConfigureAwait(false);
                for (; more; more = await output.MoveNextAsync(updates, aborted).ConfigureAwait(false))
                {
                    var update = updates.Current;
                    usage = update.Usage;
                    var choice = choices[update.CandidateIndex];
                    var delta = choice.Add(update);
                    if (delta is not null)
                        Write(output, Chunk(id, created, model, update.CandidateIndex, delta, null, choice.TakeStreamedLogprobs()));
                    if (update.FinishReason is not null)
                        Write(output, Chunk(id, created, model, update.CandidateIndex, new Delta(), choice.FinishReason, choice.TakeStreamedLogprobs()));
                }
            }
            finally
            {
                await updates.DisposeAsync().ConfigureAwait(false);
            }
            if (mapped.IncludeUsage)
                Write(output, new ChatCompletionChunk { Id = id, Created = created, Model = model, Choices = [], Usage = ToUsage(usage) });
            output.Write(Done);
        }
        catch (Exception ex) when (RequestDeadline.InBand(context, ex) is { Error: { } error } inBand)
        {
            // An API error, or the request deadline: the status is sent, so the error goes out as the stream's last event.
            ApiErrors.Record(context, error);
            aborted = inBand.WriteToken;
            output.WriteEvent(OpenAIErrors.ToJson(ChatMapping.ToOpenAINames(error, mapped.MessageOfContent)), ServerSentEvents.LfLf.Span);
        }
        await output.FlushAsync(aborted).ConfigureAwait(false);
    }

    private static ChatCompletionChunk Chunk(string id, long created, string model, int index, Delta delta, string? finishReason, ChoiceLogprobs? logprobs = null) => new()
    {
        Id = id,
        Created = created,
        Model = model,
        Choices = [new ChunkChoice { Index = index, Delta = delta, FinishReason = finishReason, Logprobs = logprobs }],
    };

    private static TokenLogprobOut ToWire(TokenLogprob t, IReadOnlyList<TokenLogprob>? top) => new()
    {
        Token = t.Token,
        Logprob = t.Logprob,
        Bytes = [.. t.Bytes.Select(b => (int)b)],
        TopLogprobs = top?.Select(a => ToWire(a, null)).ToList(),
    };

    private static void Write(ResponseStreamWriter output, ChatCompletionChunk chunk) =>
        output.WriteEvent(chunk, OpenAIJson.TypeInfo<ChatCompletionChunk>(), ServerSentEvents.LfLf.Span);

    /// <summary>OpenAI counts reasoning inside completion_tokens and reports it again in completion_tokens_details.</summary>
    private static CompletionUsage ToUsage(Usage usage) => new()
    {
        PromptTokens = usage.PromptTokenCount,
        CompletionTokens = usage.CandidatesTokenCount + usage.ThoughtsTokenCount,
        TotalTokens = usage.TotalTokenCount,
        PromptTokensDetails = new PromptTokensDetails
        {
            CachedTokens = usage.CachedContentTokenCount,
            AudioTokens = usage.PromptTokensDetails?.Audio ?? 0,
        },
        CompletionTokensDetails = new CompletionTokensDetails { ReasoningTokens = usage.ThoughtsTokenCount },
    };

    /// <summary>One choice as it accumulates: its text (thoughts in tags when asked for) and its tool calls in order.</summary>
    private sealed class ChoiceBuilder(bool includeThoughts, bool logprobs)
    {
        private readonly StringBuilder _content = new();
        private readonly List<ToolCallOut> _calls = [];
        private readonly List<TokenLogprobOut> _logprobs = [];
        private int _streamedLogprobs;
        private bool _started;
        private bool _inThought;

        public string? FinishReason { get; private set; }

        /// <summary>The log probabilities gathered since the last chunk, for a streamed chunk.</summary>
        public ChoiceLogprobs? TakeStreamedLogprobs()
        {
            if (!logprobs || _streamedLogprobs == _logprobs.Count) return null;
            var fresh = _logprobs.GetRange(_streamedLogprobs, _logprobs.Count - _streamedLogprobs);
            _streamedLogprobs = _logprobs.Count;
            return new ChoiceLogprobs { Content = fresh };
        }

        /// <summary>Takes one update; returns the delta it adds to the stream, or null when it adds nothing to show.</summary>
        public Delta? Add(GenerationUpdate update)
        {
            if (update.Logprobs is { } steps) _logprobs.AddRange(steps.Select(s => ToWire(s.Chosen, s.Top)));
            var text = new StringBuilder();
            if (includeThoughts && update.Thought.Length > 0)
            {
                if (!_inThought) text.Append(ThoughtOpen);
                _inThought = true;
                text.Append(update.Thought);
            }
            List<ToolCallOut>? calls = null;
            foreach (var part in update.Parts)
            {
                switch (part)
                {
                    case TextPart { Text.Length: > 0 } t:
                        CloseThought(text);
                        text.Append(t.Text);
                        break;
                    case FunctionCallPart call:
                        CloseThought(text);
                        var wire = new ToolCallOut
                        {
                            Index = _calls.Count,
                            Id = string.IsNullOrEmpty(call.Id) ? "call_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) : call.Id,
                            Function = new FunctionCallOut { Name = call.Name, Arguments = call.Args?.GetRawText() ?? "{}" },
                        };
                        _calls.Add(wire);
                        (calls ??= []).Add(wire);
                        break;
                }
            }
            if (update.FinishReason is { } reason)
            {
                CloseThought(text);
                // OpenAI's reasons: the token limit is "length" even after complete calls; a turn that calls is "tool_calls".
                FinishReason = reason == Application.Generation.FinishReason.MaxTokens ? "length" : _calls.Count > 0 ? "tool_calls" : "stop";
            }
            _content.Append(text);
            if (text.Length == 0 && calls is null) return null;
            var delta = new Delta { Role = _started ? null : "assistant", Content = text.Length == 0 ? null : text.ToString(), ToolCalls = calls };
            _started = true;
            return delta;
        }

        private void CloseThought(StringBuilder text)
        {
            if (!_inThought) return;
            text.Append(ThoughtClose);
            _inThought = false;
        }

        public ChatChoice ToChoice(int index) => new()
        {
            Index = index,
            Message = new ResponseMessage
            {
                Content = _content.Length == 0 && _calls.Count > 0 ? null : _content.ToString(),
                ToolCalls = _calls.Count == 0 ? null : _calls.Select(c => new ToolCallOut { Id = c.Id, Function = c.Function }).ToList(),
            },
            FinishReason = FinishReason ?? "stop",
            Logprobs = logprobs ? new ChoiceLogprobs { Content = _logprobs } : null,
        };
    }
}
