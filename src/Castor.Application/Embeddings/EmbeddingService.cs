using System.Text;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Embedding;
using Castor.Engine.Scheduling;

namespace Castor.Application.Embeddings;

/// <summary>
/// The Gemini API's embedding rules, shared by every protocol adapter: resolves the model, validates each request
/// (the batch's model, content, task type, title, output size), turns task type and title into the model's prompt,
/// tokenizes, sends every text of the call to the engine together, and shapes the vectors (normalized, then cut to
/// <c>outputDimensionality</c>). Everything that can be refused is refused before any text is computed.
/// </summary>
public sealed class EmbeddingService(ModelCatalogue catalogue, EmbeddingOptions options) : IEmbeddingService
{
    public const string EmbedContentMethod = "embedContent";
    public const string BatchEmbedContentsMethod = "batchEmbedContents";

    /// <summary><c>models/{model}:embedContent</c>: one content, one vector.</summary>
    public Task<EmbeddingResult> EmbedContentAsync(Caller caller, string model, EmbeddingRequest request, PromptAdmission? admission,
        CancellationToken cancellationToken)
    {
        var entry = catalogue.ResolveEmbedding(model, EmbedContentMethod);
        var text = Prepare(entry, model, request, "");
        return RunAsync(entry, [text], admission, cancellationToken);
    }

    /// <summary><c>models/{model}:batchEmbedContents</c>: one vector per request, in order, computed together.</summary>
    public Task<EmbeddingResult> BatchEmbedContentsAsync(Caller caller, string model, IReadOnlyList<EmbeddingRequest?>? requests, PromptAdmission? admission,
        CancellationToken cancellationToken)
    {
        var entry = catalogue.ResolveEmbedding(model, BatchEmbedContentsMethod);
        if (requests is null || requests.Count == 0)
            throw CastorException.InvalidField("requests", "requests is not specified; send at least one request with a content to embed.");
        if (requests.Count > options.MaxBatchRequests)
            throw CastorException.InvalidField("requests", $"at most {options.MaxBatchRequests} requests can be in one batch, but {requests.Count} were sent.");

        var texts = new PreparedText[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i] ?? throw CastorException.InvalidField($"requests[{i}]", "a request must be an object, not null.");
            texts[i] = Prepare(entry, model, request, $"requests[{i}].");
        }
        return RunAsync(entry, texts, admission, cancellationToken);
    }

    private static async Task<EmbeddingResult> RunAsync(EmbeddingModelEntry entry, IReadOnlyList<PreparedText> texts, PromptAdmission? admission,
        CancellationToken cancellationToken)
    {
        if (admission is not null)
        {
            var read = 0;
            foreach (var text in texts) read += text.Tokens.Count;
            await admission(entry.Id, new PromptTokenCounts(read), cancellationToken).ConfigureAwait(false);
        }
        float[][] pooled;
        try
        {
            pooled = await entry.Model.EmbedAsync(texts.Select(t => t.Tokens).ToList(), cancellationToken).ConfigureAwait(false);
        }
        catch (EngineOverloadedException)
        {
            throw CastorException.Overloaded();
        }
        var vectors = new float[pooled.Length][];
        var tokens = 0;
        for (var i = 0; i < pooled.Length; i++)
        {
            vectors[i] = EmbeddingVectors.Shape(pooled[i], texts[i].Dimensions);
            tokens += texts[i].Tokens.Count;
        }
        return new EmbeddingResult(entry.Id, vectors, tokens);
    }

    /// <summary>Validates one request and makes it the token sequence the model will embed. <paramref name="path"/> prefixes field names.</summary>
    private static PreparedText Prepare(EmbeddingModelEntry entry, string urlModel, EmbeddingRequest request, string path)
    {
        var info = entry.Info;
        if (!string.IsNullOrEmpty(request.Model) && !SameName(request.Model, urlModel))
        {
            throw CastorException.InvalidField(path + "model",
                $"'{request.Model}' is not the model in the request URL, 'models/{ModelCatalogue.StripPrefix(urlModel)}'; every request must name the model it is sent to.");
        }

        if (!EmbeddingTaskTypes.TryParse(request.TaskType, out var task))
        {
            throw CastorException.InvalidField(path + "taskType",
                $"'{request.TaskType}' is not a task type. Use one of: {string.Join(", ", EmbeddingTaskTypes.WireNames)}.");
        }
        var title = string.IsNullOrEmpty(request.Title) ? null : request.Title;
        if (title is not null)
        {
            // A title describes a document to be retrieved; without a task type it implies one.
            if (task == EmbeddingTaskType.Unspecified) task = EmbeddingTaskType.RetrievalDocument;
            else if (task != EmbeddingTaskType.RetrievalDocument)
                throw CastorException.InvalidField(path + "title", $"a title can only be set with taskType RETRIEVAL_DOCUMENT, not {request.TaskType}.");
        }

        int? dimensions = request.OutputDimensionality is null or 0 ? null : request.OutputDimensionality;
        if (dimensions is < 0)
            throw CastorException.InvalidField(path + "outputDimensionality", $"{dimensions} is out of range; outputDimensionality must be positive.");
        if (dimensions > info.Dimensions)
        {
            throw CastorException.InvalidField(path + "outputDimensionality",
                $"{dimensions} is more than the {info.Dimensions} dimensions of model '{info.Id}'; ask for at most {info.Dimensions}.");
        }

        var text = TextOf(request.Content, path + "content", info.Id);
        var tokens = entry.Model.Tokenize(entry.Prompts.Render(task, title, text));
        if (tokens.Count == 0)
            throw CastorException.InvalidField(path + "content", "the text has no tokens to embed.");
        if (tokens.Truncated && request.AutoTruncate == false)
        {
            throw CastorException.InvalidField(path + "content",
                $"the text is longer than the {info.MaxTokens} tokens model '{info.Id}' reads; shorten it, or leave autoTruncate unset to cut it to fit.");
        }
        return new PreparedText(tokens, dimensions);
    }

    /// <summary>The text of a content's parts, joined by newlines as generation joins them. Only text can be embedded.</summary>
    private static string TextOf(Content? content, string field, string modelId)
    {
        if (content is null)
            throw CastorException.InvalidField(field, "content is not specified; send the text to embed as content.parts[].text.");
        if (content.Parts.Count == 0)
            throw CastorException.InvalidField(field + ".parts", "must not be empty; a content needs at least one part with text.");

        var sb = new StringBuilder();
        for (var j = 0; j < content.Parts.Count; j++)
        {
            var part = $"{field}.parts[{j}]";
            switch (content.Parts[j])
            {
                case TextPart { Text.Length: 0 }:
                    throw CastorException.InvalidField(part + ".text",
                        "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again.");
                case TextPart text:
                    if (sb.Length > 0) sb.Append('\n');
                    sb.Append(text.Text);
                    break;
                case InlineDataPart inline:
                    throw CastorException.InvalidField(part + ".inlineData", $"model '{modelId}' embeds text only; inline data ('{inline.MimeType}') cannot be embedded.");
                case FileDataPart file:
                    throw CastorException.InvalidField(part + ".fileData", $"model '{modelId}' embeds text only; file data ('{file.FileUri}') cannot be embedded.");
                case OtherPart other:
                    throw CastorException.InvalidField($"{part}.{other.Kind}", $"model '{modelId}' embeds text only; a {other.Kind} part cannot be embedded.");
                case FunctionCallPart:
                    throw CastorException.InvalidField(part + ".functionCall", $"model '{modelId}' embeds text only; a functionCall part cannot be embedded.");
                case FunctionResponsePart:
                    throw CastorException.InvalidField(part + ".functionResponse", $"model '{modelId}' embeds text only; a functionResponse part cannot be embedded.");
                default:
                    throw CastorException.InvalidField(part, "the part has no data; set text.");
            }
        }
        return sb.ToString();
    }

    private static bool SameName(string a, string b) =>
        string.Equals(ModelCatalogue.StripPrefix(a), ModelCatalogue.StripPrefix(b), StringComparison.OrdinalIgnoreCase);

    private readonly record struct PreparedText(TokenizedText Tokens, int? Dimensions);
}
