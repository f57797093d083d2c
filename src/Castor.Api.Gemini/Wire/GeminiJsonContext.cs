using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Castor.Api.Gemini.Wire;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    // Protobuf's JSON mapping accepts numbers written as strings ("maxOutputTokens": "100"), and so does the API.
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    MaxDepth = 64)]
[JsonSerializable(typeof(GenerateContentRequest))]
[JsonSerializable(typeof(CountTokensRequest))]
[JsonSerializable(typeof(GenerateContentResponse))]
[JsonSerializable(typeof(CountTokensResponse))]
[JsonSerializable(typeof(ListModelsResponse))]
[JsonSerializable(typeof(Model))]
[JsonSerializable(typeof(EmbedContentRequest))]
[JsonSerializable(typeof(BatchEmbedContentsRequest))]
[JsonSerializable(typeof(EmbedContentResponse))]
[JsonSerializable(typeof(BatchEmbedContentsResponse))]
[JsonSerializable(typeof(CreateFileRequest))]
[JsonSerializable(typeof(CreateFileResponse))]
[JsonSerializable(typeof(ListFilesResponse))]
[JsonSerializable(typeof(FileResource))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(CachedContentResource))]
[JsonSerializable(typeof(ListCachedContentsResponse))]
[JsonSerializable(typeof(CreateBatchRequest))]
[JsonSerializable(typeof(LiveClientMessage))]
[JsonSerializable(typeof(LiveServerMessage))]
[JsonSerializable(typeof(AuthTokenResource))]
internal sealed partial class GeminiJsonContext : JsonSerializerContext;

/// <summary>The options every Gemini endpoint reads and writes with.</summary>
public static class GeminiJson
{
    public static readonly JsonSerializerOptions Options = new(GeminiJsonContext.Default.Options)
    {
        TypeInfoResolver = GeminiJsonContext.Default.WithAddedModifier(SnakeCaseAliases.Add),
        // Google's servers write ' < > & as they are; the default encoder would turn them into \u0027 and friends.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> TypeInfo<T>() =>
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
}
