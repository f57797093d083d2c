using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Errors;
using Castor.Engine.Grammars;

namespace Castor.Application.Generation;

/// <summary>
/// Structured output: turns <c>responseMimeType</c> with <c>responseSchema</c> / <c>responseJsonSchema</c> into the
/// grammar the engine enforces while decoding, so the answer always parses and validates, and into the instruction
/// that tells the model what is expected (the schema counts toward input tokens, as in the API).
/// </summary>
internal static class ResponseFormat
{
    public const string Json = "application/json";
    public const string Enum = "text/x.enum";

    /// <param name="Field">The request field the constraint comes from, for errors found later (by llama.cpp).</param>
    public sealed record Constraint(GrammarConstraint Grammar, string Instruction, string Field);

    /// <param name="cancellationToken">Stops compiling the schema when the caller goes away.</param>
    public static Constraint? For(GenerationConfig c, CancellationToken cancellationToken = default)
    {
        const string p = "generationConfig.";
        var mime = string.IsNullOrEmpty(c.ResponseMimeType) ? "text/plain" : c.ResponseMimeType;
        if (c.ResponseSchema is not null && c.ResponseJsonSchema is not null)
            throw CastorException.InvalidField(p + "responseJsonSchema", "responseSchema and responseJsonSchema cannot both be set; use one.");
        var (schema, field) = c.ResponseJsonSchema is { } js ? (js, "responseJsonSchema") : c.ResponseSchema is { } rs ? (rs, "responseSchema") : (default(JsonElement?), "");

        switch (mime)
        {
            case "text/plain":
                if (schema is not null)
                    throw CastorException.InvalidField(p + "responseMimeType", $"{field} needs responseMimeType application/json (or text/x.enum); it is '{mime}'.");
                return null;

            case Json:
                if (schema is null)
                    return new Constraint(new GrammarConstraint(JsonSchemaGrammar.AnyJson()), "Answer with a single JSON value and nothing else.", p + "responseMimeType");
                var node = JsonNode.Parse(schema.Value.GetRawText());
                var order = field == "responseSchema" ? PropertyOrder.Alphabetical : PropertyOrder.Declared;
                string gbnf;
                try
                {
                    gbnf = JsonSchemaGrammar.Compile(node!, order, cancellationToken);
                }
                catch (UnsupportedSchemaException ex)
                {
                    throw CastorException.InvalidField($"{p}{field}{(ex.Path == "/" ? "" : ex.Path.Replace('/', '.'))}", ex.Message);
                }
                return new Constraint(new GrammarConstraint(gbnf),
                    "Answer with a single JSON value that follows this JSON schema, and nothing else:\n" + schema.Value.GetRawText(), p + field);

            case Enum:
                if (schema is not { ValueKind: JsonValueKind.Object } s || !s.TryGetProperty("enum", out var values) || values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                    throw CastorException.InvalidField(p + "responseSchema", "text/x.enum needs a responseSchema with a non-empty enum.");
                var options = values.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()).ToList();
                return new Constraint(new GrammarConstraint(JsonSchemaGrammar.PlainEnum(options)),
                    "Answer with exactly one of these values and nothing else: " + string.Join(", ", options), p + "responseSchema");

            default:
                throw CastorException.InvalidField(p + "responseMimeType",
                    $"'{mime}' is not a supported response mime type; use text/plain, application/json or text/x.enum.");
        }
    }
}
