using System.Text.Json;

namespace Castor.Application.Generation;

/// <summary>
/// The format the answer must have: the Gemini API's <c>responseMimeType</c> with <c>responseSchema</c> or
/// <c>responseJsonSchema</c>, OpenAI's <c>response_format</c> (as <c>ChatResponseFormat</c> is in Microsoft.Extensions.AI).
/// Null on a request means plain text. The mime type and schema are checked by the service, not here.
/// </summary>
/// <param name="MimeType">As sent; empty means text/plain.</param>
/// <param name="Schema">The schema as JSON (schemas are JSON by nature), or null for none.</param>
/// <param name="SchemaKind">Which field the schema came as.</param>
public sealed record ResponseFormat(string MimeType, JsonElement? Schema = null, ResponseSchemaKind SchemaKind = ResponseSchemaKind.JsonSchema)
{
    public const string Text = "text/plain";
    public const string Json = "application/json";
    public const string Enum = "text/x.enum";

    /// <summary>Any JSON value (OpenAI's <c>json_object</c>).</summary>
    public static ResponseFormat AnyJson { get; } = new(Json);

    /// <summary>JSON that follows <paramref name="schema"/>.</summary>
    public static ResponseFormat ForJsonSchema(JsonElement schema, ResponseSchemaKind kind = ResponseSchemaKind.JsonSchema) => new(Json, schema, kind);

    // JsonElement compares by reference; two formats are the same when their schemas are the same text.
    public bool Equals(ResponseFormat? other) =>
        other is not null && MimeType == other.MimeType && SchemaKind == other.SchemaKind &&
        Schema?.GetRawText() == other.Schema?.GetRawText();

    public override int GetHashCode() => HashCode.Combine(MimeType, SchemaKind);
}
