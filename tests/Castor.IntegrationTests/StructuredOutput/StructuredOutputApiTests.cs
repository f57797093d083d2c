using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.StructuredOutput;

[Collection(ServerCollection.Name)]
public sealed class StructuredOutputApiTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();
    private const string Path = "/v1beta/models/gemini-2.5-flash:generateContent";

    private static string TextOf(JsonNode? body) => body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>();

    [Fact]
    public async Task A_gemini_schema_with_upper_case_types_yields_json_in_alphabetical_order()
    {
        var (status, body) = await _client.PostAsync(Path, """
            {"contents":[{"parts":[{"text":"Tell me about a recipe"}]}],
             "generationConfig":{"responseMimeType":"application/json","seed":5,"maxOutputTokens":400,
               "responseSchema":{"type":"OBJECT","properties":{
                  "recipeName":{"type":"STRING","maxLength":"20"},
                  "servings":{"type":"INTEGER","minimum":1,"maximum":12},
                  "ingredients":{"type":"ARRAY","items":{"type":"STRING","maxLength":"12"},"minItems":"1","maxItems":"3"},
                  "vegan":{"type":"BOOLEAN","nullable":true}},
                 "required":["recipeName","servings","ingredients"]}}}
            """);
        Assert.Equal(200, status);
        var json = JsonNode.Parse(TextOf(body))!.AsObject();
        Assert.InRange(json["servings"]!.GetValue<int>(), 1, 12);
        Assert.InRange(json["ingredients"]!.AsArray().Count, 1, 3);
        var keys = json.Select(p => p.Key).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
    }

    [Fact]
    public async Task Property_ordering_and_response_json_schema_keep_the_given_order()
    {
        var (_, ordered) = await _client.PostAsync(Path, """
            {"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","seed":2,"maxOutputTokens":300,
              "responseSchema":{"type":"OBJECT","propertyOrdering":["zeta","alpha"],"properties":{"alpha":{"type":"BOOLEAN"},"zeta":{"type":"BOOLEAN"}},"required":["alpha","zeta"]}}}
            """);
        Assert.Equal(["zeta", "alpha"], JsonNode.Parse(TextOf(ordered))!.AsObject().Select(p => p.Key));

        var (_, declared) = await _client.PostAsync(Path, """
            {"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","seed":2,"maxOutputTokens":300,
              "responseJsonSchema":{"type":"object","properties":{"zeta":{"type":"boolean"},"alpha":{"type":"boolean"}},"required":["zeta","alpha"],"additionalProperties":false}}}
            """);
        Assert.Equal(["zeta", "alpha"], JsonNode.Parse(TextOf(declared))!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Json_mode_without_a_schema_yields_valid_json_when_it_finishes()
    {
        var (status, body) = await _client.PostAsync(Path, """
            {"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","seed":9,"maxOutputTokens":1500}}
            """);
        Assert.Equal(200, status);
        if (body!["candidates"]![0]!["finishReason"]!.GetValue<string>() == "STOP")
            JsonNode.Parse(TextOf(body));
    }

    [Fact]
    public async Task Enum_output_is_one_of_the_values_as_plain_text()
    {
        var (status, body) = await _client.PostAsync(Path, """
            {"contents":[{"parts":[{"text":"What kind of instrument is an oboe?"}]}],
             "generationConfig":{"responseMimeType":"text/x.enum","responseSchema":{"type":"STRING","enum":["Percussion","String","Woodwind","Brass","Keyboard"]}}}
            """);
        Assert.Equal(200, status);
        Assert.Contains(TextOf(body), new[] { "Percussion", "String", "Woodwind", "Brass", "Keyboard" });
    }

    [Theory]
    [InlineData("""{"responseMimeType":"application/json","responseJsonSchema":{"type":"string","pattern":"^(a)\\1$"}}""", "generationConfig.responseJsonSchema.pattern")]
    [InlineData("""{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT","properties":{"a":{"type":"NUMBER","minimum":1e400}}}}""", "generationConfig.responseSchema.properties.a.minimum")]
    [InlineData("""{"responseSchema":{"type":"STRING"}}""", "generationConfig.responseMimeType")]
    [InlineData("""{"responseMimeType":"text/x.enum","responseSchema":{"type":"STRING"}}""", "generationConfig.responseSchema")]
    [InlineData("""{"responseMimeType":"application/xml"}""", "generationConfig.responseMimeType")]
    [InlineData("""{"responseMimeType":"application/json","responseSchema":{"type":5}}""", "generationConfig.responseSchema")]
    [InlineData("""{"responseMimeType":"application/json","responseJsonSchema":{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"string"}]}},"$ref":"#/$defs/a"}}""", "generationConfig.responseJsonSchema")]
    public async Task Schemas_that_cannot_be_enforced_get_400_naming_the_field(string config, string field)
    {
        var (status, body) = await _client.PostAsync(Path, $$"""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{{config}}}""");
        Assert.Equal(400, status);
        Assert.Contains(field, Json.AssertRpcError(body, 400, "INVALID_ARGUMENT").ToJsonString());

        // The server is still there after a grammar llama.cpp refuses.
        Assert.Equal(200, (await _client.PostAsync(Path, """{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":1}}""")).Status);
    }

    [Fact]
    public async Task The_schema_counts_toward_prompt_tokens_and_count_tokens_agrees()
    {
        const string request = """{"contents":[{"parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":40,"responseMimeType":"application/json","responseSchema":{"type":"OBJECT","properties":{"a":{"type":"BOOLEAN"}},"required":["a"]}}}""";
        var (_, generated) = await _client.PostAsync(Path, request);
        var (_, counted) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", $$"""{"generateContentRequest":{{request}}}""");
        var (_, plain) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");
        var prompt = generated!["usageMetadata"]!["promptTokenCount"]!.GetValue<int>();
        Assert.Equal(prompt, counted!["totalTokens"]!.GetValue<int>());
        Assert.True(prompt > plain!["totalTokens"]!.GetValue<int>());
    }
}
