namespace Castor.Application.Generation;

/// <summary>Which of the API's two schema fields a response schema came as; they differ in property order.</summary>
public enum ResponseSchemaKind
{
    /// <summary><c>responseSchema</c>: the API's Schema (an OpenAPI subset); properties are produced in alphabetical order unless <c>propertyOrdering</c> says otherwise.</summary>
    OpenApiSchema,
    /// <summary><c>responseJsonSchema</c> (and OpenAI's <c>json_schema</c>): JSON Schema; properties in the order declared.</summary>
    JsonSchema,
}
