using System.Text.Json;
using Json.Schema;

namespace Castor.IntegrationTests.StructuredOutput;

/// <summary>
/// The schemas mainstream clients send by default, through HTTP on the real test model: what zod 4's
/// z.toJSONSchema writes (the AI SDK 4 sends it as responseJsonSchema, LangChain as responseSchema and tool
/// parameters): .int() bounds of ±(2^53−1), .positive() as exclusiveMinimum, email and uuid with format and pattern,
/// tuples, records, arrays of objects. Every output validates against the schema sent (JsonSchema.Net).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientSchemaTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();
    private const string Path = "/v1beta/models/gemini-2.5-flash:generateContent";

    // z.object({ age: z.number().int(), score: z.number().positive(), ratio: z.number().gt(0.5).lte(0.75),
    //   email: z.email(), id: z.uuid(), pair: z.tuple([z.string(), z.number().int().nonnegative()]),
    //   tags: z.record(z.string(), z.boolean()), items: z.array(z.object({ n: z.number().int().min(-3).max(3) })).max(2) })
    private const string ZodSchema = """
        {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{
          "age":{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991},
          "score":{"type":"number","exclusiveMinimum":0},
          "ratio":{"type":"number","exclusiveMinimum":0.5,"maximum":0.75},
          "email":{"type":"string","format":"email","pattern":"^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$"},
          "id":{"type":"string","format":"uuid","pattern":"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$"},
          "pair":{"type":"array","prefixItems":[{"type":"string","maxLength":8},{"type":"integer","minimum":0,"maximum":9007199254740991}],"items":false,"minItems":2,"maxItems":2},
          "tags":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"boolean"}},
          "items":{"type":"array","maxItems":2,"items":{"type":"object","properties":{"n":{"type":"integer","minimum":-3,"maximum":3}},"required":["n"],"additionalProperties":false}}},
         "required":["age","score","ratio","email","id","pair","items"],"additionalProperties":false}
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_zod_v4_schema_as_response_json_schema_yields_valid_json(int seed)
    {
        const string schema = ZodSchema;
        var (status, body) = await _client.PostAsync(Path, """
            {"contents":[{"parts":[{"text":"Once upon a time"}]}],
             "generationConfig":{"responseMimeType":"application/json","maxOutputTokens":1500,"seed":
            """ + seed + ",\"responseJsonSchema\":" + schema + "}}");
        Assert.True(status == 200, body?.ToJsonString());
        var candidate = body!["candidates"]![0]!;
        Assert.Equal("STOP", candidate["finishReason"]!.GetValue<string>());
        AssertValid(schema, candidate["content"]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_forced_tool_with_zod_integer_parameters_is_called_with_valid_arguments()
    {
        const string parameters = """
            {"type":"object","properties":{"city":{"type":"string","maxLength":12},
              "days":{"type":"integer","exclusiveMinimum":0,"maximum":9007199254740991},
              "limit":{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}},
             "required":["city","days","limit"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}
            """;
        var (status, body) = await _client.PostAsync(Path, """
            {"contents":[{"parts":[{"text":"What is the weather?"}]}],
             "tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather","parametersJsonSchema":
            """ + parameters + """
            }]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},"generationConfig":{"seed":7,"maxOutputTokens":1500}}
            """);
        Assert.True(status == 200, body?.ToJsonString());
        // ANY allows parallel calls: each must be valid.
        var calls = body!["candidates"]![0]!["content"]!["parts"]!.AsArray().Select(p => p!["functionCall"]).Where(c => c is not null).ToList();
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            Assert.Equal("get_weather", call!["name"]!.GetValue<string>());
            AssertValid(parameters, call["args"]!.ToJsonString());
        }
    }

    private static void AssertValid(string schema, string json)
    {
        using var instance = JsonDocument.Parse(json);
        var result = JsonSchema.FromText(schema).Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{json}\n{string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Values))}");
    }
}
