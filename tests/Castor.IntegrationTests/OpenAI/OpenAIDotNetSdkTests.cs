using System.ClientModel;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace Castor.IntegrationTests.OpenAI;

/// <summary>
/// The official OpenAI .NET SDK (2.x) against a real Castor on loopback: only the endpoint and the key change, as the
/// Gemini API's OpenAI compatibility promises.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class OpenAIDotNetSdkTests(CastorServerFixture server)
{
    private const string Model = "gemini-2.5-flash";

    private OpenAIClient Client(string key = CastorServerFixture.ApiKey) => new(new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(server.BaseAddress, "/v1beta/openai/"),
        NetworkTimeout = TimeSpan.FromSeconds(180),
        // A 4xx must surface as it is, not after retries.
        RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
    });

    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string","maxLength":12}},"required":["city"],"additionalProperties":false}""";

    [Fact]
    public async Task A_chat_completion_has_text_a_finish_reason_and_usage()
    {
        var chat = Client().GetChatClient(Model);
        ChatCompletion completion = await chat.CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("Once upon a time")],
            new ChatCompletionOptions { MaxOutputTokenCount = 16, Temperature = 0.5f });

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(16, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + 16, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal(Model, completion.Model);
    }

    [Fact]
    public async Task Streaming_yields_text_then_a_finish_reason_and_the_usage()
    {
        var chat = Client().GetChatClient(Model);
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Once upon a time")],
                           new ChatCompletionOptions { MaxOutputTokenCount = 12 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.True(updates > 2, $"only {updates} updates");
        Assert.False(string.IsNullOrEmpty(text.ToString()));
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(12, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task A_required_tool_call_round_trips_with_a_tool_message()
    {
        var chat = Client().GetChatClient(Model);
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Gets the weather in a city", BinaryData.FromString(WeatherSchema)) },
            ToolChoice = ChatToolChoice.CreateRequiredChoice(),
            AllowParallelToolCalls = false,
            MaxOutputTokenCount = 200,
        };
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];

        ChatCompletion first = await chat.CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls.Take(1));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.False(string.IsNullOrEmpty(call.Id));
        using (var args = JsonDocument.Parse(call.FunctionArguments.ToString()))
            Assert.Equal(JsonValueKind.String, args.RootElement.GetProperty("city").ValueKind);

        messages.Add(new AssistantChatMessage(first));
        foreach (var c in first.ToolCalls) messages.Add(new ToolChatMessage(c.Id, """{"tempC":21,"sky":"clear"}"""));
        options.ToolChoice = ChatToolChoice.CreateNoneChoice();
        options.MaxOutputTokenCount = 12;
        ChatCompletion second = await chat.CompleteChatAsync(messages, options);
        Assert.Empty(second.ToolCalls);
        Assert.False(string.IsNullOrEmpty(second.Content[0].Text));
    }

    [Fact]
    public async Task A_strict_json_schema_answer_parses_and_follows_the_schema()
    {
        var chat = Client().GetChatClient(Model);
        const string schema = """{"type":"object","properties":{"name":{"type":"string","maxLength":20},"minutes":{"type":"integer","minimum":1,"maximum":600}},"required":["name","minutes"],"additionalProperties":false}""";
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Give me a recipe")], new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("recipe", BinaryData.FromString(schema), jsonSchemaIsStrict: true),
            MaxOutputTokenCount = 300,
        });

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        using var doc = JsonDocument.Parse(completion.Content[0].Text);
        Assert.True(doc.RootElement.GetProperty("name").GetString()!.Length <= 20);
        Assert.InRange(doc.RootElement.GetProperty("minutes").GetInt32(), 1, 600);
        Assert.Equal(2, doc.RootElement.EnumerateObject().Count());
    }

    [Fact]
    public async Task Log_probabilities_come_back_per_token_with_the_top_alternatives()
    {
        var chat = Client().GetChatClient(Model);
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Once upon a time")], new ChatCompletionOptions
        {
            MaxOutputTokenCount = 8,
            Temperature = 0,
            IncludeLogProbabilities = true,
            TopLogProbabilityCount = 2,
        });

        var tokens = completion.ContentTokenLogProbabilities;
        Assert.Equal(8, tokens.Count);
        Assert.Equal(completion.Content[0].Text, string.Concat(tokens.Select(t => t.Token)));
        Assert.All(tokens, t =>
        {
            Assert.Equal(2, t.TopLogProbabilities.Count);
            Assert.True(t.TopLogProbabilities[0].LogProbability >= t.TopLogProbabilities[1].LogProbability);
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(t.TopLogProbabilities[0].Token, t.Token);
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(t.Token), t.Utf8Bytes!.Value.ToArray());
        });
    }

    [Fact]
    public async Task Embeddings_come_back_with_the_asked_dimensions()
    {
        var embeddings = Client().GetEmbeddingClient("gemini-embedding-001");
        OpenAIEmbeddingCollection result = await embeddings.GenerateEmbeddingsAsync(["a small kitten", "a cat sleeps on the sofa", "a red sports car"],
            new EmbeddingGenerationOptions { Dimensions = 64 });

        Assert.Equal(3, result.Count);
        var vectors = result.Select(e => e.ToFloats().ToArray()).ToArray();
        Assert.All(vectors, v => Assert.Equal(64, v.Length));
        var full = (await embeddings.GenerateEmbeddingsAsync(["a small kitten", "a cat sleeps on the sofa", "a red sports car"])).Value
            .Select(e => e.ToFloats().ToArray()).ToArray();
        // The kitten is nearer the cat than the car.
        Assert.True(Cosine(full[0], full[1]) > Cosine(full[0], full[2]) + 0.1);
        Assert.True(result.Usage.InputTokenCount > 0);
    }

    [Fact]
    public async Task Models_are_listed_and_retrieved_by_their_models_slash_ids()
    {
        var models = Client().GetOpenAIModelClient();
        OpenAIModelCollection list = await models.GetModelsAsync();
        Assert.Contains(list, m => m.Id == "models/gemini-2.5-flash");
        Assert.Contains(list, m => m.Id == "models/gemini-embedding-001");

        OpenAIModel one = await models.GetModelAsync("models/gemini-2.5-pro");
        Assert.Equal("models/gemini-2.5-pro", one.Id);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("models/no-such-model"));
        Assert.Equal(404, missing.Status);
    }

    [Fact]
    public async Task A_wrong_key_is_a_401_and_a_bad_parameter_a_400_naming_it()
    {
        var denied = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client("not-a-key").GetChatClient(Model).CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, denied.Status);

        var bad = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client().GetChatClient(Model).CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { Temperature = 7 }));
        Assert.Equal(400, bad.Status);
        Assert.Contains("temperature", bad.Message);
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
