using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.OpenAI;

/// <summary>The wire of /v1beta/openai/: shapes, SSE framing, error bodies and the mapping of every parameter.</summary>
[Collection(ServerCollection.Name)]
public sealed class ChatCompletionsWireTests(CastorServerFixture server)
{
    private const string Path = "/v1beta/openai/chat/completions";

    private HttpClient Bearer(string? key = CastorServerFixture.ApiKey)
    {
        var client = server.CreateClient(apiKey: null);
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>OpenAI's error shape: message, type, param and code, all four present.</summary>
    private static JsonNode AssertOpenAIError(JsonNode? body, string type, string? param)
    {
        var error = body?["error"];
        Assert.NotNull(error);
        Assert.False(string.IsNullOrWhiteSpace(error!["message"]!.GetValue<string>()));
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.True(error.AsObject().ContainsKey("param") && error.AsObject().ContainsKey("code"), error.ToJsonString());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.Null(error["status"]);
        return error;
    }

    [Fact]
    public async Task A_completion_has_OpenAIs_shape()
    {
        using var client = Bearer();
        var (status, body) = await client.PostAsync(Path,
            """{"model":"gemini-2.5-flash","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Once upon a time"}]}],"max_completion_tokens":10,"seed":5,"stop":"zzzz"}""");

        Assert.Equal(200, status);
        Assert.Equal("chat.completion", body!["object"]!.GetValue<string>());
        Assert.Equal("gemini-2.5-flash", body["model"]!.GetValue<string>());
        Assert.True(body["created"]!.GetValue<long>() > 1_700_000_000);
        var choice = body["choices"]![0]!;
        Assert.Equal(0, choice["index"]!.GetValue<int>());
        Assert.Equal("assistant", choice["message"]!["role"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(choice["message"]!["content"]!.GetValue<string>()));
        Assert.Equal("length", choice["finish_reason"]!.GetValue<string>());
        var usage = body["usage"]!;
        Assert.Equal(10, usage["completion_tokens"]!.GetValue<int>());
        Assert.Equal(usage["prompt_tokens"]!.GetValue<int>() + 10, usage["total_tokens"]!.GetValue<int>());
        Assert.Equal(0, usage["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_answer_as_generateContent()
    {
        using var openai = Bearer();
        var (_, chat) = await openai.PostAsync(Path,
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":12,"seed":11,"temperature":0.9,"top_p":0.95}""");
        using var gemini = server.CreateClient();
        var (_, native) = await gemini.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"role":"user","parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":12,"seed":11,"temperature":0.9,"topP":0.95}}""");

        // One pipeline: the same request through either wire gives the same tokens.
        Assert.Equal(native!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>(),
            chat!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(native["usageMetadata"]!["promptTokenCount"]!.GetValue<int>(), chat["usage"]!["prompt_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task n_gives_that_many_choices()
    {
        using var client = Bearer();
        var (status, body) = await client.PostAsync(Path,
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":8,"n":2,"seed":3}""");
        Assert.Equal(200, status);
        var choices = body!["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => c!["index"]!.GetValue<int>()));
        Assert.Equal(16, body["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Streaming_sends_chunks_a_usage_chunk_and_DONE()
    {
        using var client = Bearer();
        using var response = await client.PostAsync(Path, Json.Body(
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Once"}],"max_tokens":6,"stream":true,"stream_options":{"include_usage":true}}"""));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);

        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.Single(chunks.Select(c => c["id"]!.GetValue<string>()).Distinct());
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(6, usageChunk["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal("length", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.All(chunks[..^2], c => Assert.Null(c["choices"]![0]!["finish_reason"]));
    }

    [Fact]
    public async Task Without_include_usage_no_usage_chunk_is_sent()
    {
        using var client = Bearer();
        using var response = await client.PostAsync(Path, Json.Body(
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Once"}],"max_tokens":4,"stream":true}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("\"usage\"", text);
        Assert.EndsWith("data: [DONE]\n\n", text);
    }

    [Fact]
    public async Task A_named_tool_choice_forces_that_function_and_answers_tool_calls()
    {
        using var client = Bearer();
        var (status, body) = await client.PostAsync(Path, """
            {"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Weather?"}],"max_tokens":250,"parallel_tool_calls":false,
             "tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}},
                      {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":8}},"required":["city"]}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}}}
            """);
        Assert.Equal(200, status);
        var choice = body!["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Null(choice["message"]!["content"]);
        var calls = choice["message"]!["tool_calls"]!.AsArray();
        Assert.NotEmpty(calls);
        Assert.All(calls, c =>
        {
            Assert.Equal("function", c!["type"]!.GetValue<string>());
            Assert.Equal("get_weather", c["function"]!["name"]!.GetValue<string>());
            Assert.NotNull(JsonNode.Parse(c["function"]!["arguments"]!.GetValue<string>())!["city"]);
        });
    }

    [Fact]
    public async Task Json_object_mode_answers_json()
    {
        using var client = Bearer();
        var (_, body) = await client.PostAsync(Path,
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"A JSON object please"}],"max_tokens":120,"response_format":{"type":"json_object"}}""");
        var content = body!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        if (body["choices"]![0]!["finish_reason"]!.GetValue<string>() == "stop")
            Assert.NotNull(JsonNode.Parse(content));
    }

    [Fact]
    public async Task Keys_are_bearer_tokens_and_key_errors_are_401()
    {
        using var none = Bearer(null);
        using var missing = await none.PostAsync(Path, Json.Body("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(401, (int)missing.StatusCode);
        AssertOpenAIError(await Json.ReadAsync(missing), "invalid_request_error", null);

        using var wrong = Bearer("wrong-key");
        var (status, body) = await wrong.PostAsync(Path, """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(401, status);
        Assert.Equal("invalid_api_key", AssertOpenAIError(body, "invalid_request_error", null)["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"temperature":3}""", "temperature")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"top_p":1.5}""", "top_p")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"max_tokens":"many"}""", "max_tokens")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"stop":7}""", "stop")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[]}""", "messages")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"robot","content":"x"}]}""", "messages[0].role")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"},{"role":"user","content":""}]}""", "messages[1].content")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"data:image/png;base64,cG5n"}}]}]}""", "messages[0].content[1]")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"video","video":{}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"tool","tool_call_id":"nope","content":"{}"}]}""", "messages[0].tool_call_id")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"bad name!"}}]}""", "tools[0].function.name")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search"}]}""", "tools[0].type")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"tool_choice":"required"}""", "tool_choice")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}""", "tool_choice")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"string","pattern":"(?=a)"}}}}}}""", "response_format.json_schema.schema.properties.a.pattern")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}""", "response_format.type")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"reasoning_effort":"extreme"}""", "reasoning_effort")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"reasoning_effort":"low","extra_body":{"google":{"thinking_config":{"thinking_budget":800}}}}""", "reasoning_effort")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"extra_body":{"google":{"cached_content":"cachedContents/Not Valid!"}}}""", "extra_body.google.cached_content")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21}""", "top_logprobs")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"top_logprobs":2}""", "top_logprobs")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"logit_bias":{"50256":-100}}""", "logit_bias")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"modalities":["text","audio"]}""", "modalities")]
    [InlineData("""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"x"}],"n":99}""", "n")]
    public async Task Invalid_requests_are_400s_naming_the_OpenAI_parameter(string json, string param)
    {
        using var client = Bearer();
        var (status, body) = await client.PostAsync(Path, json);
        Assert.Equal(400, status);
        AssertOpenAIError(body, "invalid_request_error", param);
    }

    [Fact]
    public async Task The_docs_bare_v1beta_base_url_serves_chat_and_embeddings_too()
    {
        using var client = Bearer();
        var (status, body) = await client.PostAsync("/v1beta/chat/completions", """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Once"}],"max_tokens":3}""");
        Assert.Equal(200, status);
        Assert.Equal("chat.completion", body!["object"]!.GetValue<string>());
        var (embedStatus, _) = await client.PostAsync("/v1beta/embeddings", """{"model":"gemini-embedding-001","input":"x"}""");
        Assert.Equal(200, embedStatus);
        var (bad, error) = await client.PostAsync("/v1beta/chat/completions", """{"model":"gemini-2.5-flash","messages":[]}""");
        Assert.Equal(400, bad);
        AssertOpenAIError(error, "invalid_request_error", "messages");
    }

    [Fact]
    public async Task File_parts_by_id_or_data_url_enter_the_prompt_as_text()
    {
        const string story = "Lily had a red ball. She liked to play with it in the park.";
        using var gemini = server.CreateClient();
        var file = await Files.Uploads.UploadAsync(gemini, System.Text.Encoding.UTF8.GetBytes(story), "text/plain");
        var dataUrl = "data:text/plain;base64," + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(story));
        using var client = Bearer();

        async Task<int> PromptTokens(string content)
        {
            var (status, body) = await client.PostAsync(Path, $$"""{"model":"gemini-2.5-flash","messages":[{"role":"user","content":{{content}}}],"max_tokens":1}""");
            Assert.True(status == 200, body?.ToJsonString());
            return body!["usage"]!["prompt_tokens"]!.GetValue<int>();
        }

        var asText = await PromptTokens($$"""[{"type":"text","text":"Read:"},{"type":"text","text":"{{story}}"}]""");
        var byId = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Read:" },
            new JsonObject { ["type"] = "file", ["file"] = new JsonObject { ["file_id"] = file.GetProperty("name").GetString() } });
        var byData = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Read:" },
            new JsonObject { ["type"] = "file", ["file"] = new JsonObject { ["file_data"] = dataUrl, ["filename"] = "story.txt" } });
        Assert.Equal(asText, await PromptTokens(byId.ToJsonString()));
        Assert.Equal(asText, await PromptTokens(byData.ToJsonString()));
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_model_not_found()
    {
        using var client = Bearer();
        var (status, body) = await client.PostAsync(Path, """{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(404, status);
        Assert.Equal("model_not_found", AssertOpenAIError(body, "invalid_request_error", null)["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Errors_on_native_routes_keep_the_Google_shape()
    {
        using var client = server.CreateClient(apiKey: "wrong-key");
        var (status, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[{"parts":[{"text":"x"}]}]}""");
        Assert.Equal(400, status);
        Json.AssertRpcError(body, 400, "INVALID_ARGUMENT");
    }

    [Fact]
    public async Task Embeddings_in_float_and_base64_agree()
    {
        using var client = Bearer();
        var (_, floats) = await client.PostAsync("/v1beta/openai/embeddings", """{"model":"gemini-embedding-001","input":["hello world","a cat"],"dimensions":8,"encoding_format":"float"}""");
        var (_, b64) = await client.PostAsync("/v1beta/openai/embeddings", """{"model":"gemini-embedding-001","input":["hello world","a cat"],"dimensions":8,"encoding_format":"base64"}""");

        Assert.Equal("list", floats!["object"]!.GetValue<string>());
        for (var i = 0; i < 2; i++)
        {
            var expected = floats["data"]![i]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            var bytes = Convert.FromBase64String(b64!["data"]![i]!["embedding"]!.GetValue<string>());
            var decoded = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, decoded, 0, bytes.Length);
            Assert.Equal(8, expected.Length);
            Assert.Equal(expected, decoded);
            Assert.Equal(i, floats["data"]![i]!["index"]!.GetValue<int>());
        }
        Assert.True(floats["usage"]!["prompt_tokens"]!.GetValue<int>() > 0);
    }

    [Theory]
    [InlineData("""{"model":"gemini-embedding-001","input":[1,2,3]}""", "input[0]")]
    [InlineData("""{"model":"gemini-embedding-001","input":""}""", "input")]
    [InlineData("""{"model":"gemini-embedding-001"}""", "input")]
    [InlineData("""{"model":"gemini-embedding-001","input":"x","dimensions":100000}""", "dimensions")]
    [InlineData("""{"model":"gemini-embedding-001","input":"x","encoding_format":"int8"}""", "encoding_format")]
    public async Task Invalid_embedding_requests_name_the_parameter(string json, string param)
    {
        using var client = Bearer();
        var (status, body) = await client.PostAsync("/v1beta/openai/embeddings", json);
        Assert.Equal(400, status);
        AssertOpenAIError(body, "invalid_request_error", param);
    }

    [Fact]
    public async Task Percent_encoded_model_ids_are_found()
    {
        using var client = Bearer();
        var (status, body) = await client.GetJsonAsync("/v1beta/openai/models/models%2Fgemini-2.5-pro");
        Assert.Equal(200, status);
        Assert.Equal("models/gemini-2.5-pro", body!["id"]!.GetValue<string>());
        Assert.Equal("model", body["object"]!.GetValue<string>());
        var (plain, _) = await client.GetJsonAsync("/v1beta/openai/models/gemini-2.5-pro");
        Assert.Equal(200, plain);
    }
}
