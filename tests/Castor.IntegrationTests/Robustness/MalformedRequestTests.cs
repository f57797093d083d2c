using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// Whatever arrives, Castor answers: never a 5xx, a dropped connection or a hang, and every refusal in the Google RPC
/// error shape the SDKs parse. Runs on its own server (<see cref="RobustnessServerFixture"/>), not the shared one.
/// </summary>
public sealed class MalformedRequestTests(RobustnessServerFixture server, ITestOutputHelper output) : IClassFixture<RobustnessServerFixture>
{
    private const string Generate = "/v1beta/models/gemini-2.5-flash:generateContent";
    private const int DefaultSeed = 20_260_611;
    private const int Workers = 4;
    private static readonly TimeSpan PerRequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>CASTOR_FUZZ_SEED replays another run's requests exactly.</summary>
    private static int Seed =>
        int.TryParse(Environment.GetEnvironmentVariable("CASTOR_FUZZ_SEED"), out var seed) ? seed : DefaultSeed;

    [Fact]
    public async Task Every_one_of_a_thousand_malformed_requests_gets_a_well_formed_answer_and_the_server_stays_up()
    {
        var seed = Seed;
        var requests = new FuzzCorpus(seed).Build();
        Assert.True(requests.Count >= 1000, $"the corpus has only {requests.Count} requests");
        output.WriteLine($"Seed {seed} (set CASTOR_FUZZ_SEED={seed} to replay): {requests.Count} requests on {Workers} workers.");

        using var client = FuzzClient.Create();
        var responses = new FuzzResponse[requests.Count];
        var failures = new ConcurrentBag<(FuzzRequest Request, FuzzResponse Response, string Problem)>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = Workers }, async (request, _) =>
        {
            var response = await FuzzClient.SendAsync(client, server.BaseAddress, request, PerRequestTimeout);
            responses[request.Index] = response;
            if (ResponseInvariants.Check(request, response) is { } problem) failures.Add((request, response, problem));
        });
        clock.Stop();

        output.WriteLine($"Answered in {clock.Elapsed.TotalSeconds:0.0} s: {ResponseInvariants.Histogram(responses)}.");
        foreach (var i in Enumerable.Range(0, requests.Count).OrderByDescending(i => responses[i].Elapsed).Take(5))
            output.WriteLine($"  slow: {responses[i].Elapsed.TotalMilliseconds:0} ms, {responses[i].Status} for #{i} {requests[i].Label}");
        // CASTOR_FUZZ_DUMP=<file> writes every request and its answer, to study a run or diff two servers.
        if (Environment.GetEnvironmentVariable("CASTOR_FUZZ_DUMP") is { Length: > 0 } dump)
            await File.WriteAllLinesAsync(dump, requests.Select(r => $"{r.Describe()}\n  answer: {ResponseInvariants.Summarize(responses[r.Index])}\n"));

        // Afterwards an ordinary call still works.
        using var normal = server.CreateClient();
        var (status, body) = await normal.PostAsync(Generate, SdkBodies.Plain.Json);

        var report = new StringBuilder();
        if (!failures.IsEmpty)
        {
            var sorted = failures.OrderBy(f => f.Request.Index).ToList();
            report.Append($"Seed {seed} (set CASTOR_FUZZ_SEED={seed} to replay): {sorted.Count} of {requests.Count} requests got a bad answer.\n");
            foreach (var kind in sorted.GroupBy(f => f.Problem).OrderByDescending(g => g.Count()))
                report.Append($"  {kind.Count()}× {kind.Key}\n");
            foreach (var (request, response, problem) in sorted.Take(25))
                report.Append($"\n{request.Describe()}\n  problem: {problem}\n  answer: {ResponseInvariants.Summarize(response)}\n");
        }
        if (status != 200)
            report.Append($"\nAfter the fuzzing, a normal generateContent got {status}: {body?.ToJsonString()}\n");
        Assert.True(report.Length == 0, report.ToString());
    }

    [Fact]
    public async Task A_body_over_20_MB_is_refused_with_400_naming_the_size_limit()
    {
        var response = await SendAsync(new FuzzRequest("21 MB body", "POST", Generate) { Body = FuzzCorpus.OversizedBody() });

        var error = AssertRpcError(response, 400, "INVALID_ARGUMENT");
        var message = error["message"]!.GetValue<string>();
        Assert.Contains("size", message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("limit", message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_chunked_body_over_20_MB_is_refused_with_400_naming_the_size_limit()
    {
        var response = await SendAsync(new FuzzRequest("21 MB body, chunked", "POST", Generate) { Body = FuzzCorpus.OversizedBody(), Chunked = true });

        var error = AssertRpcError(response, 400, "INVALID_ARGUMENT");
        Assert.Contains("limit", error["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_text_is_refused_with_400()
    {
        byte[] body = [.. "{\"contents\":[{\"parts\":[{\"text\":\"Say "u8, 0xC3, 0x28, 0xFF, .. " hello\"}]}]}"u8];

        var response = await SendAsync(new FuzzRequest("invalid UTF-8", "POST", Generate) { Body = body });

        AssertRpcError(response, 400, "INVALID_ARGUMENT");
    }

    /// <summary>Found by the fuzzer: fields kept as raw JSON (tools, schemas, OpenAI messages) used to fail only when read, as a 500.</summary>
    [Theory]
    [InlineData("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f\ud800"}]}]}""")]
    [InlineData("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"responseMimeType":"text/x.enum","responseSchema":{"type":"STRING","enum":["\udc00"]}}}""")]
    [InlineData("/v1beta/openai/chat/completions", """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}],"stop":["\udc00\ud800"]}""")]
    [InlineData("/v1beta/openai/embeddings", """{"model":"gemini-embedding-001","input":["\ud800","b"]}""")]
    public async Task An_unpaired_surrogate_escape_anywhere_is_a_400(string path, string json)
    {
        var response = await SendAsync(new FuzzRequest("unpaired surrogate", "POST", path) { Body = Encoding.UTF8.GetBytes(json), Key = KeyMode.ValidBearer });
        Assert.Equal(400, response.Status);
        Assert.Contains("Unicode", response.BodyText, StringComparison.Ordinal);
    }

    /// <summary>Found by the fuzzer: a multipart upload cut off inside a part was an I/O error, so a 500.</summary>
    [Theory]
    [InlineData("--b1\r\nContent-Type: application/json\r\n\r\n{\"file\":{\"displayName\":\"cut\"}}")]
    [InlineData("--b1\r\nContent-Type: application/json\r\n\r\n{\"file\":{}}\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello, cut off here")]
    public async Task A_multipart_upload_cut_off_inside_a_part_is_a_400(string body)
    {
        var response = await SendAsync(new FuzzRequest("truncated multipart", "POST", "/upload/v1beta/files")
        {
            Body = Encoding.UTF8.GetBytes(body),
            ContentType = "multipart/related; boundary=b1",
            Headers = [new("X-Goog-Upload-Protocol", "multipart")],
        });
        var error = AssertRpcError(response, 400, "INVALID_ARGUMENT");
        Assert.Contains("closing boundary", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_json_is_refused_with_400()
    {
        var json = SdkBodies.All[1].Json;

        var response = await SendAsync(new FuzzRequest("truncated", "POST", Generate) { Body = Encoding.UTF8.GetBytes(json[..(json.Length / 2)]) });

        var error = AssertRpcError(response, 400, "INVALID_ARGUMENT");
        Assert.Contains("JSON", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{\"contents\":", "}")]
    public async Task Json_nested_10000_deep_is_refused_with_400(string open, string close)
    {
        var json = string.Concat(Enumerable.Repeat(open, 10_000)) + "1" + string.Concat(Enumerable.Repeat(close, 10_000));

        var response = await SendAsync(new FuzzRequest("10,000 deep", "POST", Generate) { Body = Encoding.UTF8.GetBytes(json) });

        AssertRpcError(response, 400, "INVALID_ARGUMENT");
    }

    [Theory]
    [InlineData("GET", Generate)]
    [InlineData("PUT", Generate)]
    [InlineData("DELETE", "/v1beta/models/gemini-2.5-flash:countTokens")]
    [InlineData("PATCH", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")]
    [InlineData("POST", "/v1beta/models")]
    [InlineData("DELETE", "/v1/models/gemini-2.5-flash")]
    public async Task A_wrong_method_gets_a_4xx_in_the_rpc_shape(string method, string path)
    {
        var response = await SendAsync(new FuzzRequest("wrong method", method, path) { Body = Encoding.UTF8.GetBytes(SdkBodies.Plain.Json) });

        Assert.InRange(response.Status, 400, 499);
        AssertRpcError(response, response.Status, status: null);
    }

    [Fact]
    public async Task A_missing_key_gets_403_permission_denied()
    {
        var response = await SendAsync(new FuzzRequest("no key", "POST", Generate) { Body = Encoding.UTF8.GetBytes(SdkBodies.Plain.Json), Key = KeyMode.Missing });

        AssertRpcError(response, 403, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task A_bad_key_gets_400_api_key_invalid()
    {
        var response = await SendAsync(new FuzzRequest("bad key", "POST", Generate) { Body = Encoding.UTF8.GetBytes(SdkBodies.Plain.Json), Key = KeyMode.Bad });

        var error = AssertRpcError(response, 400, "INVALID_ARGUMENT");
        Assert.Equal("API_KEY_INVALID", error["details"]![0]!["reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/V1BETA/models")]
    [InlineData("/v1Beta/models/gemini-2.5-flash")]
    public async Task The_key_check_is_not_bypassed_by_changing_the_case_of_the_path(string path)
    {
        var response = await SendAsync(new FuzzRequest("no key, odd case", "GET", path) { Key = KeyMode.Missing });

        Assert.InRange(response.Status, 400, 499);
        AssertRpcError(response, response.Status, status: null);
    }

    private async Task<FuzzResponse> SendAsync(FuzzRequest request)
    {
        using var client = FuzzClient.Create();
        var response = await FuzzClient.SendAsync(client, server.BaseAddress, request, PerRequestTimeout);
        Assert.True(response.TransportFailure is null, $"{request.Describe()}\n{response.TransportFailure}");
        output.WriteLine($"{request.Method} {request.Path[..Math.Min(120, request.Path.Length)]} → {ResponseInvariants.Summarize(response)}");
        return response;
    }

    /// <summary>The Google RPC error shape with a JSON content type; <paramref name="status"/> null accepts any google.rpc.Code name.</summary>
    private static JsonNode AssertRpcError(FuzzResponse response, int httpStatus, string? status)
    {
        Assert.Equal(httpStatus, response.Status);
        Assert.Contains("application/json", response.ContentType ?? "(none)", StringComparison.OrdinalIgnoreCase);
        var body = JsonNode.Parse(response.Body);
        if (status is not null) return Json.AssertRpcError(body, httpStatus, status);
        var rpc = body?["error"]?["status"]?.GetValue<string>();
        Assert.True(rpc is not null && ResponseInvariants.RpcStatusNames.Contains(rpc), $"error.status '{rpc}' is not a google.rpc.Code name");
        return Json.AssertRpcError(body, httpStatus, rpc!);
    }
}
