using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Castor.IntegrationTests.FunctionCalling;

[Collection(ServerCollection.Name)]
public sealed class FunctionCallingTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();
    private const string Path = "/v1beta/models/gemini-2.5-flash:generateContent";

    private const string Weather = """
        {"name":"get_weather","description":"Get the weather for a city",
         "parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING","maxLength":"16"},"unit":{"type":"STRING","enum":["C","F"]}},"required":["city"]}}
        """;
    private const string Time = """{"name":"get_time","parametersJsonSchema":{"type":"object","properties":{"zone":{"type":"string","maxLength":6}},"required":["zone"],"additionalProperties":false}}""";

    private static string Request(string contents, string tools, string rest) =>
        "{\"contents\":" + contents + ",\"tools\":[{\"functionDeclarations\":[" + tools + "]}]" + rest + "}";

    private const string Paris = """[{"role":"user","parts":[{"text":"What is the weather in Paris?"}]}]""";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Mode_ANY_forces_calls_to_allowed_functions_with_schema_valid_arguments(int seed)
    {
        var (status, body) = await _client.PostAsync(Path, Request(Paris, Weather + "," + Time,
            ""","toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}},"generationConfig":{"maxOutputTokens":1500,"seed":""" + seed + "}"));
        Assert.Equal(200, status);
        var candidate = body!["candidates"]![0]!;
        Assert.Equal("STOP", candidate["finishReason"]!.GetValue<string>());
        var calls = candidate["content"]!["parts"]!.AsArray().Where(p => p!["functionCall"] is not null).Select(p => p!["functionCall"]!).ToList();
        Assert.NotEmpty(calls);
        var schema = JsonSchema.FromText("""{"type":"object","properties":{"city":{"type":"string","maxLength":16},"unit":{"type":"string","enum":["C","F"]}},"required":["city"]}""");
        foreach (var call in calls)
        {
            Assert.Equal("get_weather", call["name"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(call["id"]!.GetValue<string>()));
            using var args = JsonDocument.Parse(call["args"]!.ToJsonString());
            Assert.True(schema.Evaluate(args.RootElement).IsValid, call["args"]!.ToJsonString());
        }
    }

    [Fact]
    public async Task Streaming_in_mode_ANY_emits_function_call_parts()
    {
        using var response = await _client.PostAsync(Path.Replace(":generateContent", ":streamGenerateContent?alt=sse"), Json.Body(Request(
            """[{"parts":[{"text":"What time is it?"}]}]""", Time,
            ""","toolConfig":{"functionCallingConfig":{"mode":"any"}},"generationConfig":{"seed":4,"maxOutputTokens":1500}""")));
        var events = (await response.Content.ReadAsStringAsync()).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.TrimStart('\r', '\n')).Where(e => e.Length > 0)
            .Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        var calls = events.SelectMany(e => e["candidates"]![0]!["content"]!["parts"]!.AsArray()).Where(p => p!["functionCall"] is not null).ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, c => Assert.Equal("get_time", c!["functionCall"]!["name"]!.GetValue<string>()));
        Assert.DoesNotContain(events, e => e["candidates"]![0]!["content"]!["parts"]!.AsArray().Any(p => p!["text"]?.GetValue<string>().Contains("<tool_call>") == true));
    }

    [Fact]
    public async Task Mode_NONE_answers_in_text_and_a_function_response_continues_the_conversation()
    {
        const string history = """[{"role":"user","parts":[{"text":"What is the weather in Paris?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnbmF0dXJl"}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"result":{"temp":21}}}}]}]""";
        var (status, body) = await _client.PostAsync(Path, Request(history, Weather,
            ""","toolConfig":{"functionCallingConfig":{"mode":"NONE"}},"generationConfig":{"seed":5,"maxOutputTokens":12}"""));
        Assert.Equal(200, status);
        var parts = body!["candidates"]![0]!["content"]!["parts"]!.AsArray();
        Assert.All(parts, p => Assert.Null(p!["functionCall"]));
        Assert.True(body["usageMetadata"]!["promptTokenCount"]!.GetValue<int>() > 20);
    }

    [Fact]
    public async Task Mode_AUTO_lets_the_model_answer_in_text()
    {
        var (status, body) = await _client.PostAsync(Path, Request("""[{"parts":[{"text":"Once upon a time"}]}]""", Weather,
            ""","generationConfig":{"seed":6,"maxOutputTokens":10}"""));
        Assert.Equal(200, status);
        Assert.False(string.IsNullOrEmpty(body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("""{"functionDeclarations":[{"name":"bad name"}]}""", null, "tools[0].functionDeclarations[0].name")]
    [InlineData("""{"functionDeclarations":[{"name":"f"},{"name":"f"}]}""", null, "tools")]
    [InlineData("""{"functionDeclarations":[{"name":"f"}]}""", """{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["g"]}}""", "allowedFunctionNames")]
    [InlineData("""{"functionDeclarations":[{"name":"f"}]}""", """{"functionCallingConfig":{"mode":"SOMETIMES"}}""", "toolConfig.functionCallingConfig.mode")]
    [InlineData("""{"functionDeclarations":[{"name":"f","parameters":{"type":"OBJECT","properties":{"a":{"type":"STRING","pattern":"(?=x)"}}}}]}""", null, "tools.functionDeclarations")]
    [InlineData("""{"googleSearch":{}}""", null, "tools[0].googleSearch")]
    [InlineData("""{"codeExecution":{}}""", null, "tools[0].codeExecution")]
    public async Task Invalid_tool_declarations_and_config_get_400_naming_the_field(string tool, string? toolConfig, string field)
    {
        var config = toolConfig is null ? "" : $",\"toolConfig\":{toolConfig}";
        var (status, body) = await _client.PostAsync(Path, """{"contents":[{"parts":[{"text":"x"}]}],"tools":[""" + tool + "]" + config + "}");
        Assert.Equal(400, status);
        Assert.Contains(field, Json.AssertRpcError(body, 400, "INVALID_ARGUMENT").ToJsonString());
    }
}
