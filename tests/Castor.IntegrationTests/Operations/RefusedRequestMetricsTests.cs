using Castor.Application.Keys;
using Castor.IntegrationTests.Quotas;
using Microsoft.Extensions.DependencyInjection;
using static Castor.IntegrationTests.Operations.PrometheusScrape;

namespace Castor.IntegrationTests.Operations;

/// <summary>
/// A request the rate limiter refuses is a request too: it is in the GenAI request counter and duration histogram with
/// error.type RESOURCE_EXHAUSTED, counted once, and has no time to first token (issue 20; the server allows one request
/// a day per model and project).
/// </summary>
public sealed class RefusedRequestMetricsTests(QuotaServerFixture server) : IClassFixture<QuotaServerFixture>
{
    private const string Generate = """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":2}}""";
    private const string Embed = """{"content":{"parts":[{"text":"a refused sentence"}]}}""";
    private const string Exhausted = "error_type=\"RESOURCE_EXHAUSTED\"";

    [Fact]
    public async Task Rate_limited_requests_are_counted_once_with_their_error_type_and_no_time_to_first_token()
    {
        var created = await server.App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("metrics-429");
        var projectId = (await server.App.Services.GetRequiredService<ApiKeyService>().AuthenticateAsync(created.Key)).ProjectId;
        using var client = server.CreateClient(created.Key);

        var (ok, _) = await client.PostAsync("/v1beta/models/stories260k:generateContent", Generate);
        Assert.Equal(200, ok);
        var (refused, _) = await client.PostAsync("/v1beta/models/stories260k:generateContent", Generate);
        Assert.Equal(429, refused);
        var (streamRefused, _) = await client.PostAsync("/v1beta/models/stories260k:streamGenerateContent?alt=sse", Generate);
        Assert.Equal(429, streamRefused);
        var (embedded, _) = await client.PostAsync("/v1beta/models/text-embedding-minilm:embedContent", Embed);
        Assert.Equal(200, embedded);
        var (embedRefused, _) = await client.PostAsync("/v1beta/models/text-embedding-minilm:embedContent", Embed);
        Assert.Equal(429, embedRefused);

        var scrape = await ReadAsync(server);
        var project = $"castor_project_id=\"{projectId}\"";
        var model = "gen_ai_request_model=\"stories260k\"";
        var embedder = "gen_ai_request_model=\"text-embedding-minilm\"";
        // This project's own series: the one success and the two refusals, each counted once.
        Assert.Equal(1, SampleWithout(scrape, "castor_project_requests_total", "error_type", project, model));
        Assert.Equal(2, Sample(scrape, "castor_project_requests_total", project, model, Exhausted));
        Assert.Equal(1, SampleWithout(scrape, "castor_project_requests_total", "error_type", project, embedder));
        Assert.Equal(1, Sample(scrape, "castor_project_requests_total", project, embedder, Exhausted));
        // The duration histograms have no project label (other tests' refusals may add to them): at least these.
        Assert.True(Sample(scrape, "gen_ai_server_request_duration_seconds_count", model, "gen_ai_operation_name=\"generate_content\"", Exhausted) >= 2, scrape);
        Assert.True(Sample(scrape, "gen_ai_server_request_duration_seconds_count", embedder, "gen_ai_operation_name=\"embeddings\"", Exhausted) >= 1, scrape);
        // A refusal produced no token: no time to first token, no time per output token.
        Assert.Null(Sample(scrape, "gen_ai_server_time_to_first_token_seconds_count", Exhausted));
        Assert.Null(Sample(scrape, "gen_ai_server_time_per_output_token_seconds_count", Exhausted));
        // The HTTP layer's counter has them by status, as before.
        Assert.True(Sample(scrape, "castor_requests_total", "castor_api_method=\"generateContent\"", "http_response_status_code=\"429\"") >= 1);
    }
}
