using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Gemini;

[Collection(ServerCollection.Name)]
public sealed class GenerateContentTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    private const string Story = """{"contents":[{"role":"user","parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":24,"seed":7,"temperature":0.8}}""";

    private static string TextOf(JsonNode? body) => body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>();

    [Fact]
    public async Task Generate_content_returns_a_model_candidate_with_usage()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Story);

        Assert.Equal(200, status);
        var candidate = body!["candidates"]![0]!;
        Assert.Equal("model", candidate["content"]!["role"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(TextOf(body)));
        Assert.Equal(0, candidate["index"]!.GetValue<int>());
        Assert.Equal("MAX_TOKENS", candidate["finishReason"]!.GetValue<string>());
        var usage = body["usageMetadata"]!;
        Assert.Equal(24, usage["candidatesTokenCount"]!.GetValue<int>());
        Assert.Equal(usage["promptTokenCount"]!.GetValue<int>() + 24, usage["totalTokenCount"]!.GetValue<int>());
        Assert.Equal("TEXT", usage["promptTokensDetails"]![0]!["modality"]!.GetValue<string>());
        Assert.Equal("stories260k", body["modelVersion"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["responseId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_same_seed_and_request_give_the_same_text()
    {
        var first = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Story);
        var second = await _client.PostAsync("/v1beta/models/gemini-2.5-pro:generateContent", Story);
        Assert.Equal(TextOf(first.Body), TextOf(second.Body));
    }

    [Fact]
    public async Task A_different_seed_gives_a_different_text()
    {
        var first = await _client.PostAsync("/v1beta/models/stories260k:generateContent", Story);
        var other = await _client.PostAsync("/v1beta/models/stories260k:generateContent", Story.Replace("\"seed\":7", "\"seed\":8"));
        Assert.NotEqual(TextOf(first.Body), TextOf(other.Body));
    }

    [Fact]
    public async Task Temperature_zero_is_greedy_and_ignores_the_seed()
    {
        const string greedy = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":20,"temperature":0,"seed":SEED}}""";
        var a = await _client.PostAsync("/v1beta/models/stories260k:generateContent", greedy.Replace("SEED", "1"));
        var b = await _client.PostAsync("/v1beta/models/stories260k:generateContent", greedy.Replace("SEED", "99"));
        Assert.Equal(TextOf(a.Body), TextOf(b.Body));
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_text_before_it_and_is_not_returned()
    {
        const string long_ = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":120,"seed":3STOP}}""";
        var (_, full) = await _client.PostAsync("/v1beta/models/stories260k:generateContent", long_.Replace("STOP", ""));
        var text = TextOf(full);
        // A word from the middle of the seeded text, so the stop must cut it there.
        var stop = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(6).First(w => w.Length >= 3);
        var expected = text[..text.IndexOf(stop, StringComparison.Ordinal)];

        var (status, body) = await _client.PostAsync("/v1beta/models/stories260k:generateContent", long_.Replace("STOP", $",\"stopSequences\":[\"{stop}\"]"));

        Assert.Equal(200, status);
        Assert.Equal(expected, TextOf(body));
        Assert.Equal("STOP", body!["candidates"]![0]!["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task System_instruction_and_multi_turn_contents_are_accepted()
    {
        const string chat = """
            {"systemInstruction":{"role":"user","parts":[{"text":"You tell short stories."}]},
             "contents":[{"role":"user","parts":[{"text":"Tell me about a cat."}]},
                         {"role":"model","parts":[{"text":"The cat sat."}]},
                         {"role":"user","parts":[{"text":"And then?"}]}],
             "generationConfig":{"maxOutputTokens":8}}
            """;
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", chat);
        Assert.Equal(200, status);
        Assert.True(body!["usageMetadata"]!["promptTokenCount"]!.GetValue<int>() > 10);
    }

    [Fact]
    public async Task Snake_case_field_names_are_honoured_like_camel_case()
    {
        const string snake = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generation_config":{"max_output_tokens":3},"system_instruction":{"parts":[{"text":"Be brief."}]}}""";
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", snake);
        Assert.Equal(200, status);
        Assert.Equal(3, body!["usageMetadata"]!["candidatesTokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Numbers_written_as_strings_are_accepted_as_protobuf_json_allows()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":"4","temperature":"0.5"}}""");
        Assert.Equal(200, status);
        Assert.Equal(4, body!["usageMetadata"]!["candidatesTokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        var (status, _) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"Hi"}],"futureField":1}],"someNewOption":{"x":true},"generationConfig":{"maxOutputTokens":2,"brandNew":"y"}}""");
        Assert.Equal(200, status);
    }

    [Theory]
    [InlineData("/v1/models/gemini-2.5-flash:generateContent")]
    [InlineData("/v1alpha/models/gemini-2.5-flash:generateContent")]
    [InlineData("/v1beta/models/models/gemini-2.5-flash:generateContent")]
    [InlineData("/v1beta/models/gemini-3.8-flash:generateContent")]
    [InlineData("/v1beta/models/gemini-flash-latest:generateContent")]
    public async Task Versions_prefixes_and_any_gemini_name_reach_the_default_model(string path)
    {
        var (status, body) = await _client.PostAsync(path, """{"contents":[{"parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":2}}""");
        Assert.Equal(200, status);
        Assert.Equal("stories260k", body!["modelVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_refused_with_400()
    {
        var huge = string.Concat(Enumerable.Repeat("Once upon a time there was a cat. ", 400));
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", $$"""{"contents":[{"parts":[{"text":"{{huge}}"}]}]}""");
        var error = Json.AssertRpcError(body, 400, "INVALID_ARGUMENT");
        Assert.Contains("exceeds the maximum number of tokens allowed (2047)", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":5}}""", "generationConfig.temperature")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"topP":1.5}}""", "generationConfig.topP")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"topK":-3}}""", "generationConfig.topK")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":-1}}""", "generationConfig.maxOutputTokens")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"candidateCount":9}}""", "generationConfig.candidateCount")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"presencePenalty":2.5}}""", "generationConfig.presencePenalty")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"stopSequences":["a","b","c","d","e","f"]}}""", "generationConfig.stopSequences")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"warm"}}""", "generationConfig.temperature")]
    [InlineData("""{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}""", "contents[0].role")]
    [InlineData("""{"contents":[{"parts":[]}]}""", "contents[0].parts")]
    [InlineData("""{"contents":[{"parts":[{"text":""}]}]}""", "contents[0].parts[0].text")]
    [InlineData("""{"contents":[{"parts":[{}]}]}""", "contents[0].parts[0]")]
    [InlineData("""{"contents":[]}""", "contents")]
    [InlineData("""{}""", "contents")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"safetySettings":[{"category":"HARM_CATEGORY_NOPE","threshold":"BLOCK_NONE"}]}""", "safetySettings[0].category")]
    public async Task Invalid_values_get_400_INVALID_ARGUMENT_naming_the_field(string json, string field)
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", json);
        var error = Json.AssertRpcError(body, 400, "INVALID_ARGUMENT");
        Assert.Equal(400, status);
        Assert.Contains(field, error.ToJsonString());
    }

    [Theory]
    [InlineData("""{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]}]}""", "image/png")]
    [InlineData("""{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseModalities":["AUDIO"]}}""", "responseModalities")]
    public async Task Known_fields_Castor_cannot_honour_yet_are_refused_by_name(string json, string mention)
    {
        var (_, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", json);
        var error = Json.AssertRpcError(body, 400, "INVALID_ARGUMENT");
        Assert.Contains(mention, error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Safety_settings_and_thinking_config_sent_by_sdks_are_accepted()
    {
        var (status, _) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", """
            {"contents":[{"parts":[{"text":"Hi"}]}],
             "safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_ONLY_HIGH"},{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","threshold":"BLOCK_NONE"}],
             "generationConfig":{"maxOutputTokens":2,"stopSequences":[],"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}}
            """);
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Unknown_model_gets_404_NOT_FOUND()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/no-such-model:generateContent", """{"contents":[{"parts":[{"text":"x"}]}]}""");
        Assert.Equal(404, status);
        var error = Json.AssertRpcError(body, 404, "NOT_FOUND");
        Assert.Contains("models/no-such-model", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Embedding_names_do_not_alias_the_generative_model()
    {
        var (status, _) = await _client.PostAsync("/v1beta/models/gemini-embedding-001:generateContent", """{"contents":[{"parts":[{"text":"x"}]}]}""");
        Assert.Equal(404, status);
    }
}
