using System.Text.Json;
using Castor.Api.Gemini.Apis;
using Castor.Api.OpenAI.Apis;
using GeminiWire = Castor.Api.Gemini.Wire;
using OpenAIWire = Castor.Api.OpenAI.Wire;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Tools;

namespace Castor.UnitTests.Requests;

/// <summary>
/// Each adapter fills the same typed request from its own wire: what means the same thing on both wires maps to equal
/// values, and errors name the field as each client sent it.
/// </summary>
public sealed class TypedRequestMappingTests
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";

    private static GenerationRequest Gemini(string json) =>
        GeminiMapping.ToGenerationRequest("gemini-2.5-flash", JsonSerializer.Deserialize(json, GeminiWire.GeminiJson.TypeInfo<GeminiWire.GenerateContentRequest>())!);

    private static ChatMapping.Mapped OpenAI(string json) =>
        ChatMapping.ToGenerationRequest(JsonSerializer.Deserialize(json, OpenAIWire.OpenAIJson.TypeInfo<OpenAIWire.ChatCompletionRequest>())!);

    private static string GeminiTools(string toolConfig = "") =>
        """{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather","parametersJsonSchema":""" + WeatherSchema +
        """},{"name":"get_time"}]}]""" + (toolConfig.Length == 0 ? "" : ",\"toolConfig\":" + toolConfig) + "}";

    private static string OpenAITools(string toolChoice = "") =>
        """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":""" + WeatherSchema +
        """}},{"type":"function","function":{"name":"get_time"}}]""" + (toolChoice.Length == 0 ? "" : ",\"tool_choice\":" + toolChoice) + "}";

    [Theory]
    [InlineData("""{"type":"function","function":{"name":"get_weather"}}""", """{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}""")]
    [InlineData("\"required\"", """{"functionCallingConfig":{"mode":"ANY"}}""")]
    [InlineData("\"none\"", """{"functionCallingConfig":{"mode":"NONE"}}""")]
    [InlineData("\"auto\"", """{"functionCallingConfig":{"mode":"AUTO"}}""")]
    [InlineData("""{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"get_time"}}]}}""",
        """{"function_calling_config":{"mode":"any","allowed_function_names":["get_time"]}}""")]
    public void An_OpenAI_tool_choice_maps_to_the_same_ToolChoice_as_Gemini_functionCallingConfig(string toolChoice, string toolConfig)
    {
        var openai = OpenAI(OpenAITools(toolChoice)).Request.ToolChoice;
        var gemini = Gemini(GeminiTools(toolConfig)).ToolChoice;
        Assert.NotNull(openai);
        Assert.Equal(gemini, openai);
    }

    [Fact]
    public void A_named_tool_choice_is_ANY_with_that_one_function_allowed()
    {
        Assert.Equal(ToolChoice.RequireAny(["get_weather"]), OpenAI(OpenAITools("""{"type":"function","function":{"name":"get_weather"}}""")).Request.ToolChoice);
        Assert.NotEqual(ToolChoice.RequireAny(["get_time"]), OpenAI(OpenAITools("""{"type":"function","function":{"name":"get_weather"}}""")).Request.ToolChoice);
    }

    [Fact]
    public void No_tool_config_is_no_tool_choice_on_either_wire()
    {
        Assert.Null(Gemini(GeminiTools()).ToolChoice);
        Assert.Equal(ToolChoice.Auto, OpenAI(OpenAITools()).Request.ToolChoice);
        Assert.Equal(FunctionCallingMode.Auto, (Gemini(GeminiTools()).ToolChoice ?? ToolChoice.Auto).Mode);
    }

    [Fact]
    public void Function_tools_become_the_same_declarations_each_remembering_its_wire_path()
    {
        var gemini = Gemini(GeminiTools()).Tools;
        var openai = OpenAI(OpenAITools()).Request.Tools;
        Assert.Equal(gemini.Select(f => (f.Name, f.Description, f.Parameters?.ToJsonString())), openai.Select(f => (f.Name, f.Description, f.Parameters?.ToJsonString())));
        Assert.Equal(new[] { "tools[0].functionDeclarations[0]", "tools[0].functionDeclarations[1]" }, gemini.Select(f => f.Path.ToString()));
        Assert.Equal(new[] { "tools[0].function", "tools[1].function" }, openai.Select(f => f.Path.ToString()));
    }

    [Fact]
    public void Snake_case_tools_and_tool_config_bind_in_the_Gemini_wire_types()
    {
        var snake = Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"function_declarations":[{"name":"f","parameters_json_schema":{"type":"object"}}]},{"functionDeclarations":[{"name":"g"}]}],"tool_config":{"function_calling_config":{"mode":"ANY","allowed_function_names":["g"]}}}""");
        Assert.Equal(new[] { "f", "g" }, snake.Tools.Select(f => f.Name));
        Assert.Equal("""{"type":"object"}""", snake.Tools[0].Parameters!.ToJsonString());
        Assert.Equal("tools[1].functionDeclarations[0]", snake.Tools[1].Path.ToString());
        Assert.Equal(ToolChoice.RequireAny(["g"]), snake.ToolChoice);
    }

    [Theory]
    [InlineData("""{"googleSearch":{}}""", "tools[0].googleSearch")]
    [InlineData("""{"google_search":{}}""", "tools[0].google_search")]
    [InlineData("""{"code_execution":{}}""", "tools[0].code_execution")]
    [InlineData("""{"someNewTool":{"x":1}}""", "tools[0].someNewTool")]
    public void Other_Gemini_tools_are_refused_under_the_name_the_client_sent(string tool, string field)
    {
        var error = Assert.Throws<CastorException>(() => Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"tools":[""" + tool + "]}"));
        Assert.Contains($"(field '{field}')", error.Message);
        Assert.Equal(field, error.Details.OfType<FieldViolation>().Single().Field);
    }

    [Fact]
    public void An_OpenAI_json_schema_is_the_same_response_format_as_Gemini_responseJsonSchema()
    {
        var openai = OpenAI("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"w","schema":""" + WeatherSchema + "}}}").Request.Config.ResponseFormat;
        var gemini = Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":""" + WeatherSchema + "}}").Config.ResponseFormat;
        Assert.Equal(gemini, openai);
        Assert.Equal(ResponseSchemaKind.JsonSchema, openai!.SchemaKind);
        Assert.Equal(ResponseFormat.Json, openai.MimeType);
    }

    [Fact]
    public void ResponseSchema_is_the_OpenAPI_kind_json_object_is_any_JSON_and_text_is_no_format()
    {
        var schema = Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"generation_config":{"response_mime_type":"application/json","response_schema":{"type":"STRING"}}}""").Config.ResponseFormat;
        Assert.Equal(ResponseSchemaKind.OpenApiSchema, schema!.SchemaKind);
        Assert.Equal(ResponseFormat.AnyJson, OpenAI("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}""").Request.Config.ResponseFormat);
        Assert.Equal(ResponseFormat.AnyJson, Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json"}}""").Config.ResponseFormat);
        Assert.Null(OpenAI("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}""").Request.Config.ResponseFormat);
        Assert.Null(Gemini("""{"contents":[{"parts":[{"text":"x"}]}]}""").Config.ResponseFormat);
    }

    [Theory]
    [InlineData("low", "LOW", ThinkingLevel.Low)]
    [InlineData("medium", "MEDIUM", ThinkingLevel.Medium)]
    [InlineData("high", "HIGH", ThinkingLevel.High)]
    [InlineData("none", "MINIMAL", ThinkingLevel.Minimal)]
    public void Reasoning_effort_is_the_same_thinking_level_as_Gemini_thinkingLevel(string effort, string level, ThinkingLevel expected)
    {
        var openai = OpenAI("""{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"%"}""".Replace("%", effort)).Request.Config.ThinkingConfig;
        var gemini = Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingLevel":"%"}}}""".Replace("%", level)).Config.ThinkingConfig;
        Assert.Equal(expected, openai!.ThinkingLevel);
        Assert.Equal(expected, gemini!.ThinkingLevel);
    }

    [Fact]
    public void An_unknown_thinking_level_is_refused_at_the_field_each_client_sent()
    {
        var gemini = Assert.Throws<CastorException>(() => Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingLevel":"MAX"}}}"""));
        Assert.Equal("Invalid value at 'generationConfig.thinkingConfig.thinkingLevel': 'MAX' is not a thinking level; use MINIMAL, LOW, MEDIUM or HIGH.", gemini.Message);
        var openai = Assert.Throws<CastorException>(() => OpenAI("""{"model":"m","messages":[{"role":"user","content":"x"}],"extra_body":{"google":{"thinking_config":{"thinking_level":"max"}}}}"""));
        Assert.Equal("Invalid value at 'extra_body.google.thinking_config.thinking_level': 'MAX' is not a thinking level; use MINIMAL, LOW, MEDIUM or HIGH.", openai.Message);
    }

    [Fact]
    public void A_bad_function_name_is_named_in_each_wires_own_layout()
    {
        var gemini = Gemini("""{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"ok"}]},{"functionDeclarations":[{"name":"a"},{"name":"bad name"}]}]}""");
        var geminiError = Assert.Throws<CastorException>(() => ToolSetParser.Parse(gemini.Tools, gemini.ToolChoice));
        Assert.Equal("Invalid value at 'tools[1].functionDeclarations[1].name': 'bad name' is not a valid function name: use a-z, A-Z, 0-9, underscores, dots, colons and dashes, at most 64 characters, starting with a letter or underscore.", geminiError.Message);
        Assert.Equal(new[] { "tools", "1", "functionDeclarations", "1", "name" }, geminiError.Field!.Segments.Select(s => s.ToString().Trim('[', ']')));

        var openai = OpenAI("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"ok"}},{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"bad name"}}]}""");
        var openaiError = ChatMapping.ToOpenAINames(Assert.Throws<CastorException>(() => ToolSetParser.Parse(openai.Request.Tools, openai.Request.ToolChoice)), openai.MessageOfContent);
        Assert.StartsWith("Invalid value at 'tools[2].function.name': 'bad name' is not a valid function name", openaiError.Message);
        Assert.Equal("tools[2].function.name", openaiError.Details.OfType<FieldViolation>().Single().Field);
    }

    [Fact]
    public void Allowed_function_names_that_are_not_declared_are_tool_choice_on_OpenAI_and_toolConfig_on_Gemini()
    {
        var error = Assert.Throws<CastorException>(() => ToolSetParser.Parse([new FunctionDeclaration("f", null, null)], ToolChoice.RequireAny(["g"])));
        Assert.Equal("Invalid value at 'toolConfig.functionCallingConfig.allowedFunctionNames': 'g' is not a declared function.", error.Message);
        var renamed = ChatMapping.ToOpenAINames(error, []);
        Assert.Equal("Invalid value at 'tool_choice': 'g' is not a declared function.", renamed.Message);
        Assert.Equal("tool_choice", renamed.Details.OfType<FieldViolation>().Single().Field);
    }

    [Theory]
    [InlineData("generationConfig.temperature", "temperature")]
    [InlineData("generationConfig.topP", "top_p")]
    [InlineData("generationConfig.candidateCount", "n")]
    [InlineData("generationConfig.maxOutputTokens", "max_completion_tokens")]
    [InlineData("generationConfig.stopSequences[1]", "stop[1]")]
    [InlineData("generationConfig.logprobs", "top_logprobs")]
    [InlineData("generationConfig.responseLogprobs", "logprobs")]
    [InlineData("generationConfig.responseMimeType", "response_format")]
    [InlineData("generationConfig.responseJsonSchema.properties.a.pattern", "response_format.json_schema.schema.properties.a.pattern")]
    [InlineData("generationConfig.thinkingConfig.thinkingBudget", "extra_body.google.thinking_config.thinking_budget")]
    [InlineData("generationConfig.topK", "generationConfig.topK")]
    [InlineData("toolConfig.functionCallingConfig", "tool_choice")]
    [InlineData("toolConfig.functionCallingConfig.allowedFunctionNames", "tool_choice")]
    [InlineData("systemInstruction.parts[0].text", "messages.parts[0].text")]
    [InlineData("cachedContent", "extra_body.google.cached_content")]
    [InlineData("contents[2].parts[1].inlineData", "messages[4].content[1]")]
    [InlineData("contents[1].parts", "messages[2].content")]
    [InlineData("contents[0].role", "messages[0].content")]
    [InlineData("contents", "contents")]
    [InlineData("tools[3].function.parameters", "tools[3].function.parameters")]
    public void Service_field_paths_are_written_in_OpenAI_parameter_names(string path, string openai)
    {
        Assert.Equal(openai, ChatMapping.OpenAIFieldName(FieldPath.Parse(path), [0, 2, 4]));
        var error = ChatMapping.ToOpenAINames(CastorException.InvalidField(path, "why."), [0, 2, 4]);
        Assert.Equal($"Invalid value at '{openai}': why.", error.Message);
    }
}
