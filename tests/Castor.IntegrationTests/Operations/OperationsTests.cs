using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Castor.Engine.Diagnostics;

namespace Castor.IntegrationTests.Operations;

/// <summary>Metrics at /metrics, the request span and its phases, /healthz and /readyz, and the one log line per request (issue 20).</summary>
public sealed class OperationsTests(OperationsServerFixture server) : IClassFixture<OperationsServerFixture>
{
    private const string Model = "stories260k";

    private static StringContent Body(string text, int maxTokens = 12) => new(
        "{\"contents\":[{\"parts\":[{\"text\":\"" + text + "\"}]}],\"generationConfig\":{\"maxOutputTokens\":" + maxTokens + ",\"temperature\":0}}",
        Encoding.UTF8, "application/json");

    private Task<string> ScrapeAsync() => PrometheusScrape.ReadAsync(server);

    private static double? Sample(string scrape, string name, params string[] labels) => PrometheusScrape.Sample(scrape, name, labels);

    [Fact]
    public async Task Metrics_name_requests_tokens_and_latency_as_the_GenAI_conventions_do()
    {
        var project = $"castor_project_id=\"{server.ProjectId}\"";
        var model = $"gen_ai_request_model=\"{Model}\"";
        // The fixture's other tests use the same project: this test counts what its own two requests add.
        var before = Sample(await ScrapeAsync(), "castor_project_requests_total", project, model) ?? 0;
        using var client = server.CreateClient();
        using (var r = await client.PostAsync($"/v1beta/models/{Model}:generateContent", Body("Once upon a time")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await client.PostAsync($"/v1beta/models/{Model}:streamGenerateContent?alt=sse", Body("The cat")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            await r.Content.ReadAsStringAsync();
        }

        var scrape = await ScrapeAsync();
        var operation = "gen_ai_operation_name=\"generate_content\"";
        Assert.True(Sample(scrape, "gen_ai_server_request_duration_seconds_count", model, operation) >= 2, scrape);
        Assert.True(Sample(scrape, "gen_ai_server_time_to_first_token_seconds_count", model) >= 2);
        Assert.True(Sample(scrape, "gen_ai_server_time_per_output_token_seconds_count", model) >= 1);
        Assert.True(Sample(scrape, "gen_ai_client_token_usage_sum", model, "gen_ai_token_type=\"input\"") > 0);
        Assert.True(Sample(scrape, "gen_ai_client_token_usage_sum", model, "gen_ai_token_type=\"output\"") > 0);
        // Per project, by its id: this fixture's project made exactly these two generation requests.
        Assert.Equal(before + 2, Sample(scrape, "castor_project_requests_total", project, model));
        Assert.True(Sample(scrape, "castor_project_tokens_total", project, "gen_ai_token_type=\"output\"") > 0);
        Assert.True(Sample(scrape, "castor_requests_total", "castor_api_method=\"streamGenerateContent\"", model, "http_response_status_code=\"200\"") >= 1);
        // The engine's gauges and counters, per model.
        Assert.NotNull(Sample(scrape, "castor_sequences_running", model));
        Assert.NotNull(Sample(scrape, "castor_sequences_queued", model));
        Assert.True(Sample(scrape, "castor_kv_cells_used", model) > 0);
        Assert.True(Sample(scrape, "castor_decode_tokens_total", model) > 0);
        Assert.True(Sample(scrape, "castor_prefill_tokens_total", model) > 0);
        Assert.NotNull(Sample(scrape, "castor_prompt_tokens_reused_total", model));
        Assert.True(Sample(scrape, "castor_decode_rate_per_second_count", model) >= 2);
        // The process: GC and threads, from the runtime's own meter.
        Assert.Contains("dotnet_gc_", scrape);
        Assert.Contains("dotnet_thread_pool_thread_count", scrape);
        // No key material in any label.
        Assert.DoesNotContain(CastorServerFixture.ApiKey, scrape);
    }

    [Fact]
    public async Task Embedding_calls_are_measured_as_the_embeddings_operation()
    {
        using var client = server.CreateClient();
        using (var r = await client.PostAsync("/v1beta/models/text-embedding-minilm:embedContent",
                   new StringContent("{\"content\":{\"parts\":[{\"text\":\"a measured sentence\"}]}}", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var scrape = await ScrapeAsync();
        var model = "gen_ai_request_model=\"text-embedding-minilm\"";
        Assert.True(Sample(scrape, "gen_ai_server_request_duration_seconds_count", model, "gen_ai_operation_name=\"embeddings\"") >= 1, scrape);
        Assert.True(Sample(scrape, "gen_ai_client_token_usage_sum", model, "gen_ai_operation_name=\"embeddings\"", "gen_ai_token_type=\"input\"") > 0);
        Assert.True(Sample(scrape, "castor_requests_total", "castor_api_method=\"embedContent\"", model, "http_response_status_code=\"200\"") >= 1);
    }

    [Fact]
    public async Task An_unknown_model_is_counted_under_unknown_with_its_error_type()
    {
        using var client = server.CreateClient();
        using (var r = await client.PostAsync("/v1beta/models/no-such-model-xyz:generateContent", Body("hi")))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        var scrape = await ScrapeAsync();
        Assert.DoesNotContain("no-such-model-xyz", scrape);
        Assert.True(Sample(scrape, "castor_project_requests_total", $"castor_project_id=\"{server.ProjectId}\"", "gen_ai_request_model=\"unknown\"", "error_type=\"NOT_FOUND\"") >= 1);
    }

    [Fact]
    public async Task A_generation_is_one_span_with_queueing_prefill_and_decode_children_in_order()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CastorDiagnostics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        using var client = server.CreateClient();
        using (var r = await client.PostAsync($"/v1beta/models/{Model}:generateContent", Body("A span for the dog")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        // Other tests' servers share the source: this request is the one in this fixture's project.
        var request = stopped.Single(a => a.OperationName == "generate_content stories260k"
            && (string?)a.GetTagItem(CastorDiagnostics.ProjectId) == server.ProjectId && a.GetTagItem("gen_ai.usage.output_tokens") is int);
        Assert.Equal("generate_content", request.GetTagItem(CastorDiagnostics.OperationName));
        Assert.Equal(Model, request.GetTagItem("gen_ai.response.model"));
        var children = stopped.Where(a => a.ParentSpanId == request.SpanId).OrderBy(a => a.StartTimeUtc).ToList();
        Assert.Equal(["castor.queue", "castor.prefill", "castor.decode"], children.Select(c => c.OperationName));
        Assert.All(children, c => Assert.Equal(request.TraceId, c.TraceId));
        // Each phase starts where the one before it ended, inside the request's span.
        Assert.True(children[0].StartTimeUtc >= request.StartTimeUtc);
        Assert.True(children[1].StartTimeUtc >= children[0].StartTimeUtc + children[0].Duration - TimeSpan.FromMilliseconds(1));
        Assert.True(children[2].StartTimeUtc >= children[1].StartTimeUtc + children[1].Duration - TimeSpan.FromMilliseconds(1));
        Assert.True(children[2].StartTimeUtc + children[2].Duration <= request.StartTimeUtc + request.Duration + TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Healthz_says_alive_and_readyz_names_each_check()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using (var health = await anonymous.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("ok", JsonNode.Parse(await health.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
        }
        using var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        var checks = body["checks"]!.AsArray().ToDictionary(c => c!["name"]!.GetValue<string>(), c => c!);
        Assert.Equal(["models", "database", "draining"], checks.Keys);
        Assert.All(checks.Values, c => Assert.True(c["ok"]!.GetValue<bool>()));
        Assert.Contains(Model, checks["models"]["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Each_request_gets_one_log_line_with_its_facts_and_no_prompt_or_key()
    {
        const string secret = "zebracanary";
        using var client = server.CreateClient();
        using (var r = await client.PostAsync($"/v1beta/models/{Model}:generateContent", Body("The " + secret + " sat", maxTokens: 7)))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var lines = server.Log.Lines.Where(l => l.Category == "Castor.Api.Hosting.RequestLogMiddleware"
            && l.Message.StartsWith("generateContent ", StringComparison.Ordinal) && l.Message.Contains("outputTokens=7", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines, l => l.Message.Contains($"project={server.ProjectId}", StringComparison.Ordinal));
        Assert.Contains($"model={Model}", line.Message);
        Assert.Contains("status=200", line.Message);
        Assert.Matches(@"promptTokens=\d+ outputTokens=7 ttftMs=[\d.]+ durationMs=[\d.]+", line.Message);
        Assert.All(server.Log.Lines, l =>
        {
            Assert.DoesNotContain(secret, l.Message);
            Assert.DoesNotContain(CastorServerFixture.ApiKey, l.Message);
        });
    }
}
