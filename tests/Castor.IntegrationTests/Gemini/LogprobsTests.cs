using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Gemini;

/// <summary>responseLogprobs / logprobs: log probabilities of the chosen tokens and the top alternatives at each step.</summary>
[Collection(ServerCollection.Name)]
public sealed class LogprobsTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task Greedy_decoding_chooses_the_top_candidate_and_the_tokens_spell_the_answer()
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":12,"temperature":0,"responseLogprobs":true,"logprobs":3}}""");
        Assert.Equal(200, status);
        var candidate = body!["candidates"]![0]!;
        var result = candidate["logprobsResult"]!;
        var chosen = result["chosenCandidates"]!.AsArray();
        var top = result["topCandidates"]!.AsArray();
        Assert.Equal(12, chosen.Count);
        Assert.Equal(12, top.Count);

        var text = candidate["content"]!["parts"]![0]!["text"]!.GetValue<string>();
        Assert.Equal(text, string.Concat(chosen.Select(c => c!["token"]!.GetValue<string>())));

        double sum = 0;
        for (var i = 0; i < chosen.Count; i++)
        {
            var step = top[i]!["candidates"]!.AsArray();
            Assert.Equal(3, step.Count);
            var values = step.Select(c => c!["logProbability"]!.GetValue<double>()).ToList();
            Assert.Equal(values.OrderDescending(), values);
            Assert.All(values, v => Assert.True(v <= 0));
            // Temperature 0 takes the most likely token.
            Assert.Equal(step[0]!["tokenId"]!.GetValue<int>(), chosen[i]!["tokenId"]!.GetValue<int>());
            Assert.Equal(values[0], chosen[i]!["logProbability"]!.GetValue<double>(), 5);
            sum += chosen[i]!["logProbability"]!.GetValue<double>();
        }
        Assert.Equal(sum, result["logProbabilitySum"]!.GetValue<double>(), 3);
        Assert.Equal(sum / 12, candidate["avgLogprobs"]!.GetValue<double>(), 3);
    }

    [Fact]
    public async Task Streamed_chunks_carry_the_steps_of_their_text()
    {
        using var response = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Json.Body(
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":10,"seed":4,"responseLogprobs":true}}"""));
        var frames = (await response.Content.ReadAsStringAsync()).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.TrimStart('\r', '\n')).Where(e => e.Length > 0)
            .Select(f => JsonNode.Parse(f["data: ".Length..])!["candidates"]![0]!).ToList();
        var steps = frames.SelectMany(f => f["logprobsResult"]?["chosenCandidates"]?.AsArray() ?? []).ToList();
        Assert.Equal(10, steps.Count);
        var text = string.Concat(frames.Select(f => f["content"]!["parts"]![0]!["text"]?.GetValue<string>() ?? ""));
        Assert.Equal(text, string.Concat(steps.Select(s => s!["token"]!.GetValue<string>())));
        // logprobs unset: the chosen tokens only, no alternatives.
        Assert.All(frames.Where(f => f["logprobsResult"] is not null), f =>
            Assert.All(f["logprobsResult"]!["topCandidates"]!.AsArray(), t => Assert.Empty(t!["candidates"]!.AsArray())));
    }

    [Theory]
    [InlineData("""{"logprobs":2}""")]
    [InlineData("""{"responseLogprobs":true,"logprobs":21}""")]
    [InlineData("""{"responseLogprobs":true,"logprobs":-1}""")]
    public async Task Invalid_logprobs_settings_are_400s_naming_the_field(string config)
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            $$"""{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{{config}}}""");
        Assert.Equal(400, status);
        Assert.Equal("generationConfig.logprobs", Json.AssertRpcError(body, 400, "INVALID_ARGUMENT")["details"]![0]!["fieldViolations"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_responseLogprobs_nothing_is_computed_or_sent()
    {
        var (_, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":3,"responseLogprobs":false}}""");
        Assert.Null(body!["candidates"]![0]!["logprobsResult"]);
        Assert.Null(body["candidates"]![0]!["avgLogprobs"]);
    }
}
