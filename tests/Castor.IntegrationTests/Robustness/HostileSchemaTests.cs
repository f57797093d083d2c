using System.Collections.Concurrent;
using System.Text;
using Castor.Engine.Grammars;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.Robustness;

/// <summary>
/// Issue 11, findings 1 and 2, over real HTTP: a schema that once killed the process (a stack overflow cannot be
/// caught) or froze it is a 400 on every route that compiles a schema, and the server keeps answering.
/// </summary>
public sealed class HostileSchemaTests(RobustnessServerFixture server, ITestOutputHelper output) : IClassFixture<RobustnessServerFixture>
{
    // Generous: a bound on a hang, not a measure of speed.
    private static readonly TimeSpan PerRequestTimeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Routes() => new(HostileSchemas.Carriers("{}").Select(c => c.Via));

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_cyclic_allOf_is_a_400_naming_the_cycle_and_the_server_stays_up(string via)
    {
        var (_, path, body) = HostileSchemas.Carriers("""{"allOf":[{"$ref":"#"}]}""").Single(c => c.Via == via);
        using var client = server.CreateClient();
        var (status, answer) = await client.PostAsync(path, body);

        Assert.True(status == 400, $"{status}: {answer?.ToJsonString()}");
        var message = ResponseInvariants.IsOpenAIPath(path)
            ? answer!["error"]!["message"]!.GetValue<string>()
            : Json.AssertRpcError(answer, 400, "INVALID_ARGUMENT")["message"]!.GetValue<string>();
        Assert.Contains("cycle", message);
        Assert.Contains("$ref", message + answer!.ToJsonString());
        await AssertAliveAsync();
    }

    [Fact]
    public async Task The_review_s_eight_levels_of_four_look_alike_alternatives_are_a_400_naming_the_parse_path_limit()
    {
        using var client = server.CreateClient();
        var schema = HostileSchemaShapes.LookAlikeAnyOf(8, 4).ToJsonString();
        var (status, answer) = await client.PostAsync(HostileSchemas.Generate,
            """{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":SCHEMA}}""".Replace("SCHEMA", schema));

        Assert.Equal(400, status);
        var error = Json.AssertRpcError(answer, 400, "INVALID_ARGUMENT");
        Assert.Contains($"at most {SchemaLimits.MaxParsePaths}", error["message"]!.GetValue<string>());
        Assert.Contains("responseJsonSchema", error.ToJsonString());
        await AssertAliveAsync();
    }

    [Fact]
    public async Task Null_inside_required_is_a_400_naming_the_keyword()
    {
        using var client = server.CreateClient();
        var (status, answer) = await client.PostAsync(HostileSchemas.Generate, """
            {"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",
             "responseSchema":{"type":"OBJECT","properties":{"a":{"type":"STRING"}},"required":[null]}}}
            """);
        Assert.Equal(400, status);
        var error = Json.AssertRpcError(answer, 400, "INVALID_ARGUMENT");
        Assert.Contains("generationConfig.responseSchema.required", error.ToJsonString());
    }

    /// <summary>
    /// The fuzz suite's class for recursive and fan-out schemas: every case of <see cref="HostileSchemas"/> through
    /// every route, at the limits and past them. No 5xx, an answer to each within the timeout, past-limit cases a 400,
    /// and the server alive afterwards.
    /// </summary>
    [Fact]
    public async Task Recursive_and_fan_out_schemas_through_every_route_never_crash_or_hang_the_server()
    {
        var requests = HostileSchemas.Requests();
        using var client = FuzzClient.Create();
        var failures = new ConcurrentBag<string>();
        var responses = new FuzzResponse[requests.Count];
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (request, _) =>
        {
            var response = await FuzzClient.SendAsync(client, server.BaseAddress, request, PerRequestTimeout);
            responses[request.Index] = response;
            if (ResponseInvariants.Check(request, response) is { } problem)
                failures.Add($"{request.Describe()}\n  problem: {problem}\n  answer: {ResponseInvariants.Summarize(response)}");
        });
        output.WriteLine($"{requests.Count} requests: {ResponseInvariants.Histogram(responses)}; slowest {responses.Max(r => r.Elapsed).TotalMilliseconds:0} ms.");

        var report = new StringBuilder();
        foreach (var failure in failures.Take(10)) report.Append(failure).Append("\n\n");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {requests.Count} bad answers:\n{report}");
        await AssertAliveAsync();
    }

    private async Task AssertAliveAsync()
    {
        using var client = server.CreateClient();
        var (status, body) = await client.PostAsync(HostileSchemas.Generate, SdkBodies.Plain.Json);
        Assert.True(status == 200, $"after the hostile schemas a normal generateContent got {status}: {body?.ToJsonString()}");
    }
}
