using System.Diagnostics;
using System.Text;
using Castor.Server;

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
public sealed class HeadersFirstTests(OneSequenceFixture server) : IClassFixture<OneSequenceFixture>
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

        // A generation that holds the only sequence: the long prompt waits in the queue until it ends.
        using var holding = new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        {
            Content = Json.Body("""{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":500,"seed":5}}"""),
        };
        using var held = await client.SendAsync(holding, HttpCompletionOption.ResponseHeadersRead);
        var heldBody = await held.Content.ReadAsStreamAsync();
        var buffer = new byte[1];
        Assert.Equal(1, await heldBody.ReadAsync(buffer)); // it is generating
        var heldEnded = Task.Run(async () =>
        {
            await heldBody.CopyToAsync(Stream.Null);
            return clock.Elapsed;
        });

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json.Body(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var headers = clock.Elapsed;
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var stream = await response.Content.ReadAsStreamAsync();
        Assert.Equal(1, await stream.ReadAsync(buffer));
        var firstToken = clock.Elapsed;
        var rest = new StreamReader(stream, Encoding.UTF8);
        var text = (char)buffer[0] + await rest.ReadToEndAsync();
        var heldEnd = await heldEnded;

        // The order proves it: the headers came while the other generation still held the sequence, so before this
        // prompt's prefill had even begun; its first token could only come after that generation ended.
        Assert.True(headers < heldEnd, $"headers at {headers.TotalMilliseconds:0} ms, the holding stream ended at {heldEnd.TotalMilliseconds:0} ms");
        Assert.True(heldEnd <= firstToken, $"first token at {firstToken.TotalMilliseconds:0} ms, the holding stream ended at {heldEnd.TotalMilliseconds:0} ms");
        Assert.True(headers < firstToken);
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
