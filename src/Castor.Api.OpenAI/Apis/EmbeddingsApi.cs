using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Castor.Api.OpenAI.Wire;
using Castor.Application.Embeddings;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.OpenAI.Apis;

/// <summary><c>POST embeddings</c>: every input of the call goes to <see cref="EmbeddingService"/> as one batch.</summary>
internal static partial class EmbeddingsApi
{
    public static async Task HandleAsync(HttpContext context, IEmbeddingService embeddings)
    {
        using var metered = Castor.Application.Metering.UsageContext.Begin(Castor.Application.Metering.UsageMethods.OpenAIEmbeddings);
        var wire = await RequestBody.ReadAsync(context.Request, OpenAIJson.TypeInfo<EmbeddingsRequest>()).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(wire.Model))
            throw CastorException.InvalidField("model", "model is required; name an embedding model such as gemini-embedding-001.");
        var base64 = wire.EncodingFormat switch
        {
            null or "float" => false,
            "base64" => true,
            var other => throw CastorException.InvalidField("encoding_format", $"'{other}' is not an encoding format; use float or base64."),
        };
        if (wire.Dimensions is <= 0)
            throw CastorException.InvalidField("dimensions", $"{wire.Dimensions} is out of range; dimensions must be positive.");

        var texts = Inputs(wire.Input);
        var requests = texts.Select(t => (EmbeddingRequest?)new EmbeddingRequest
        {
            Content = new Content(Content.UserRole, [new TextPart(t)]),
            OutputDimensionality = wire.Dimensions,
        }).ToList();

        EmbeddingResult result;
        try
        {
            result = await embeddings.BatchEmbedContentsAsync(context.Caller(), wire.Model, requests, null, context.RequestAborted).ConfigureAwait(false);
        }
        catch (CastorException error)
        {
            throw Rename(error);
        }

        context.Response.ContentType = "application/json; charset=UTF-8";
        await using var w = new Utf8JsonWriter(context.Response.Body);
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        for (var i = 0; i < result.Embeddings.Count; i++)
        {
            w.WriteStartObject();
            w.WriteString("object", "embedding");
            w.WriteNumber("index", i);
            if (base64)
            {
                // Little-endian float32s, which is what the SDKs decode.
                w.WriteBase64String("embedding", MemoryMarshal.AsBytes(result.Embeddings[i].AsSpan()));
            }
            else
            {
                w.WriteStartArray("embedding");
                foreach (var v in result.Embeddings[i]) w.WriteNumberValue(v);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("model", wire.Model);
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", result.PromptTokenCount);
        w.WriteNumber("total_tokens", result.PromptTokenCount);
        w.WriteEndObject();
        w.WriteEndObject();
        await w.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary><c>input</c>: one string or an array of strings. Token arrays are OpenAI-tokenizer ids, meaningless to these models.</summary>
    private static List<string> Inputs(JsonElement? input)
    {
        switch (input?.ValueKind)
        {
            case JsonValueKind.String:
                return [Text(input.Value, "input")];
            case JsonValueKind.Array:
                var texts = new List<string>();
                var i = 0;
                foreach (var item in input.Value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        throw CastorException.InvalidField($"input[{i}]", "each input must be a string; token arrays are not supported, send the text.");
                    texts.Add(Text(item, $"input[{i}]"));
                    i++;
                }
                if (texts.Count == 0) throw CastorException.InvalidField("input", "input must not be an empty array.");
                return texts;
            default:
                throw CastorException.InvalidField("input", "input is required: a string or an array of strings.");
        }
    }

    private static string Text(JsonElement e, string field)
    {
        var text = e.GetString()!;
        return text.Length > 0 ? text : throw CastorException.InvalidField(field, "input must not be an empty string.");
    }

    /// <summary><c>requests[3].content…</c> is <c>input[3]</c>; <c>outputDimensionality</c> is <c>dimensions</c>.</summary>
    private static CastorException Rename(CastorException error) => error.WithFieldNames(path =>
    {
        var field = path.ToString();
        if (field == "requests") return "input";
        var renamed = RequestContent().Replace(field, m => "input" + m.Groups[1].Value);
        return RequestDimensions().Replace(renamed, "dimensions");
    });

    // \z, not $ (which also matches before a final newline).
    [GeneratedRegex(@"\A(?:requests(\[\d+\])?\.content)(?s:.*)\z")]
    private static partial Regex RequestContent();

    [GeneratedRegex(@"\Arequests(\[\d+\])?\.outputDimensionality\z")]
    private static partial Regex RequestDimensions();
}
