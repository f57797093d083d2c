using System.Diagnostics;
using System.Text;
using Castor.Server;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.FirstRun;

/// <summary>One sequence and a 4 K window, so a request can be made to wait for another one's whole generation.</summary>
public sealed class OneSequenceFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Parallel = 1;
        options.ContextSize = 4096;
        return options;
    }
}

/// <summary>
/// Streams answer with their status line and headers as soon as the request is validated and queued, before its
/// prefill: clients with header timeouts must not give up (and resend the prompt) while a long prompt is processed.
/// </summary>
public sealed class HeadersFirstTests(OneSequenceFixture server, ITestOutputHelper output) : IClassFixture<OneSequenceFixture>
{
    // About 1,700 tokens of the test model's vocabulary.
    private static readonly string LongPrompt = string.Concat(Enumerable.Repeat("The little fox ran to the river and saw a big fish. ", 80));

    public static TheoryData<string, string> Streams => new()
    {
        { "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            $$$"""{"contents":[{"parts":[{"text":"{{{LongPrompt}}}"}]}],"generationConfig":{"maxOutputTokens":4}}""" },
        { "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            $$$"""{"contents":[{"parts":[{"text":"{{{LongPrompt}}}"}]}],"generationConfig":{"maxOutputTokens":4}}""" },
        { "/v1beta/openai/chat/completions",
            $$$"""{"model":"gemini-2.5-flash","stream":true,"max_tokens":4,"messages":[{"role":"user","content":"{{{LongPrompt}}}"}]}""" },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public async Task A_long_prompt_gets_its_headers_before_its_first_token(string path, string body)
    {
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", CastorServerFixture.ApiKey);
        var clock = Stopwatch.StartNew();

        // A generation that holds the only sequence until this test lets it go: greedy decoding of the test model repeats
        // itself rather than ending, so it runs to its 3,500 tokens (seconds) unless cancelled. The long prompt waits in
        // the queue behind it, so its prefill cannot begin before the hold is released.
        var held = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        {
            Content = Json.Body("""{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":3500,"temperature":0}}"""),
        }, HttpCompletionOption.ResponseHeadersRead);
        var heldBody = await held.Content.ReadAsStreamAsync();
        var buffer = new byte[1];
        Assert.Equal(1, await heldBody.ReadAsync(buffer)); // it is generating
        using var release = new CancellationTokenSource();
        var heldEnded = Task.Run(async () =>
        {
            // Cancelling a read aborts the connection (disposing the response would drain it to reuse the connection).
            try { await heldBody.CopyToAsync(Stream.Null, release.Token); }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or HttpRequestException) { }
            return clock.Elapsed;
        });

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json.Body(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var headers = clock.Elapsed;
        // The order proves it: the headers came while the other generation still held the only sequence, so before this
        // prompt's prefill had even begun.
        Assert.False(heldEnded.IsCompleted, $"headers at {headers.TotalMilliseconds:0} ms, after the holding stream ended");
        release.Cancel(); // the client goes away: the server cancels the hold and the long prompt starts
        var released = await heldEnded;
        held.Dispose();

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var stream = await response.Content.ReadAsStreamAsync();
        Assert.Equal(1, await stream.ReadAsync(buffer));
        var firstToken = clock.Elapsed;
        var rest = new StreamReader(stream, Encoding.UTF8);
        var text = (char)buffer[0] + await rest.ReadToEndAsync();

        output.WriteLine($"headers at {headers.TotalMilliseconds:0} ms, hold released at {released.TotalMilliseconds:0} ms, first token at {firstToken.TotalMilliseconds:0} ms, end at {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(headers < released && released <= firstToken,
            $"headers at {headers.TotalMilliseconds:0} ms, hold released at {released.TotalMilliseconds:0} ms, first token at {firstToken.TotalMilliseconds:0} ms");
        Assert.DoesNotContain("\"error\"", text);
    }

    [Theory]
    [InlineData("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", """{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":9}}""", 400)]
    [InlineData("/v1beta/models/gemini-2.5-flash:streamGenerateContent", """{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"candidateCount":2}}""", 400)]
    [InlineData("/v1beta/models/no-such-model:streamGenerateContent?alt=sse", """{"contents":[{"parts":[{"text":"x"}]}]}""", 404)]
    [InlineData("/v1beta/openai/chat/completions", """{"model":"gemini-2.5-flash","stream":true,"temperature":9,"messages":[{"role":"user","content":"x"}]}""", 400)]
    public async Task Errors_found_before_the_headers_keep_their_http_status(string path, string body, int status)
    {
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", CastorServerFixture.ApiKey);
        using var response = await client.PostAsync(path, Json.Body(body));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.NotNull((await Json.ReadAsync(response))!["error"]);
    }
}
