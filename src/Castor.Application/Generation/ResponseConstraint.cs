using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Errors;
using Castor.Engine.Grammars;

namespace Castor.Application.Generation;

/// <summary>
/// Structured output: turns a <see cref="ResponseFormat"/> (<c>responseMimeType</c> with <c>responseSchema</c> / <c>responseJsonSchema</c>) into the
/// grammar the engine enforces while decoding, so the answer always parses and validates, and into the instruction
/// that tells the model what is expected (the schema counts toward input tokens, as in the API).
/// </summary>
internal static class ResponseConstraint
{
    /// <param name="Field">The request field the constraint comes from, for errors found later (by llama.cpp).</param>
    public sealed record Constraint(GrammarConstraint Grammar, string Instruction, FieldPath Field);

    private static readonly FieldPath Config = FieldPath.Of("generationConfig");

    /// <param name="cancellationToken">Stops compiling the schema when the caller goes away.</param>
    public static Constraint? For(ResponseFormat? format, CancellationToken cancellationToken = default)
    {
        var mime = string.IsNullOrEmpty(format?.MimeType) ? ResponseFormat.Text : format.MimeType;
        var schema = format?.Schema;
        var field = format?.SchemaKind == ResponseSchemaKind.OpenApiSchema ? "responseSchema" : "responseJsonSchema";
        var mimeField = Config.Field("responseMimeType");

        switch (mime)
        {
            case ResponseFormat.Text:
                if (schema is not null)
                    throw CastorException.InvalidField(mimeField, $"{field} needs responseMimeType application/json (or text/x.enum); it is '{mime}'.");
                return null;

            case ResponseFormat.Json:
                if (schema is null)
                    return new Constraint(new GrammarConstraint(JsonSchemaGrammar.AnyJson()), "Answer with a single JSON value and nothing else.", mimeField);
                var node = JsonNode.Parse(schema.Value.GetRawText());
                var order = field == "responseSchema" ? PropertyOrder.Alphabetical : PropertyOrder.Declared;
                string gbnf;
                try
                {
                    gbnf = JsonSchemaGrammar.Compile(node!, order, cancellationToken);
                }
                catch (UnsupportedSchemaException ex)
                {
                    throw CastorException.InvalidField($"generationConfig.{field}{(ex.Path == "/" ? "" : ex.Path.Replace('/', '.'))}", ex.Message);
                }
                return new Constraint(new GrammarConstraint(gbnf),
                    "Answer with a single JSON value that follows this JSON schema, and nothing else:\n" + schema.Value.GetRawText(), Config.Field(field));

            case ResponseFormat.Enum:
                if (schema is not { ValueKind: JsonValueKind.Object } s || !s.TryGetProperty("enum", out var values) || values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                    throw CastorException.InvalidField(Config.Field("responseSchema"), "text/x.enum needs a responseSchema with a non-empty enum.");
                var options = values.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()).ToList();
                return new Constraint(new GrammarConstraint(JsonSchemaGrammar.PlainEnum(options)),
                    "Answer with exactly one of these values and nothing else: " + string.Join(", ", options), Config.Field("responseSchema"));

            default:
                throw CastorException.InvalidField(mimeField,
                    $"'{mime}' is not a supported response mime type; use text/plain, application/json or text/x.enum.");
        }
    }
}
