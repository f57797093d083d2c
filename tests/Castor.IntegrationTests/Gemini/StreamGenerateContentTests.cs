using System.Diagnostics;
using System.Text.Json.Nodes;
using Castor.Application.Backends;
using Castor.Application.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Gemini;

[Collection(ServerCollection.Name)]
public sealed class StreamGenerateContentTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    private const string Story = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":60,"seed":11}}""";

    [Fact]
    public async Task Sse_stream_sends_data_lines_whose_text_adds_up_to_the_unary_answer()
    {
        using var response = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Json.Body(Story));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var raw = await response.Content.ReadAsStringAsync();

        // The only framing every SDK accepts: "data: " + one-line JSON + blank line; no event:, id: or comment lines
        // (bare line breaks before the first event are StreamKeepAlive's, sent while a slow prefill runs: SDKs skip them).
        var events = raw.Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.TrimStart('\r', '\n')).Where(e => e.Length > 0);
        Assert.All(events, e =>
        {
            Assert.StartsWith("data: ", e);
            Assert.DoesNotContain('\n', e);
        });
        var chunks = events.Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        var text = string.Concat(chunks.Select(c => c["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>()));

        var last = chunks[^1];
        Assert.Equal("MAX_TOKENS", last["candidates"]![0]!["finishReason"]!.GetValue<string>());
        Assert.Equal(60, last["usageMetadata"]!["candidatesTokenCount"]!.GetValue<int>());
        Assert.All(chunks.SkipLast(1), c => Assert.Null(c["candidates"]![0]!["finishReason"]));
        Assert.Single(chunks.Select(c => c["responseId"]!.GetValue<string>()).Distinct());

        var (_, unary) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Story);
        Assert.Equal(unary!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>(), text);
    }

    [Fact]
    public async Task Without_alt_sse_the_stream_is_one_json_array()
    {
        using var response = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent", Json.Body(Story));
        Assert.Equal(200, (int)response.StatusCode);
        var array = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        Assert.NotEmpty(array);
        Assert.Equal("MAX_TOKENS", array[^1]!["candidates"]![0]!["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Errors_found_before_streaming_are_plain_rpc_errors()
    {
        using var response = await _client.PostAsync("/v1beta/models/no-such-model:streamGenerateContent?alt=sse", Json.Body(Story));
        Assert.Equal(404, (int)response.StatusCode);
        Json.AssertRpcError(await Json.ReadAsync(response), 404, "NOT_FOUND");
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_stops_its_generation_within_a_few_tokens()
    {
        var scheduler = server.App.Services.GetRequiredService<ModelCatalogue>().Models.OfType<LlamaBackend>().Single().Model.Scheduler;
        const string endless = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":2000,"seed":5}}""";

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse") { Content = Json.Body(endless) };
        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        var before = scheduler.TokensGenerated;
        response.Dispose(); // closes the connection
        var clock = Stopwatch.StartNew();
        while (scheduler.ActiveSequences > 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(5);

        Assert.Equal(0, scheduler.ActiveSequences);
        // Generating all 2,000 tokens would take the test model about a second; the sequence must be freed long before.
        var afterDisconnect = scheduler.TokensGenerated - before;
        Assert.True(afterDisconnect < 400, $"{afterDisconnect} tokens were generated after the client disconnected.");
    }
}
