using System.Text.Json.Nodes;
using Castor.Application.Metering;
using Castor.IntegrationTests.Batches;
using Castor.Storage.Metering;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Metering;

/// <summary>Every adapter's calls are metered with the usage their responses reported, per method, and read back through <c>GET /v1beta/castor/usage</c>.</summary>
[Collection(UsageCollection.Name)]
public sealed class UsageMeteringTests(UsageServerFixture server)
{
    private const string Prompt = """{"contents":[{"role":"user","parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":4,"temperature":0}}""";

    private static Dictionary<string, JsonNode> Rows(JsonNode? report) =>
        report!["rows"]!.AsArray().ToDictionary(r => r!["group"]!.GetValue<string>(), r => r!);

    private static long L(JsonNode row, string name) => row[name]?.GetValue<long>() ?? 0;

    [Fact]
    public async Task Generate_stream_count_embed_and_openai_calls_are_metered_per_method_with_the_usage_they_reported()
    {
        var (project, key) = await server.NewProjectAsync("meter");
        var client = server.CreateClient(key);

        var (status, generated) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Prompt);
        Assert.Equal(200, status);
        var generateUsage = generated!["usageMetadata"]!;

        using var streamed = await client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Json.Body(Prompt));
        var events = (await streamed.Content.ReadAsStringAsync()).Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).ToList();
        var streamUsage = JsonNode.Parse(events[^1]["data: ".Length..])!["usageMetadata"]!;

        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Prompt)).Status);
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-embedding-001:embedContent", """{"content":{"parts":[{"text":"a cat"}]}}""")).Status);
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-embedding-001:batchEmbedContents",
            """{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]}},{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"b"}]}}]}""")).Status);
        var (chatStatus, chat) = await client.PostAsync("/v1beta/openai/chat/completions",
            """{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Once"}],"max_tokens":3}""");
        Assert.Equal(200, chatStatus);
        Assert.Equal(200, (await client.PostAsync("/v1beta/openai/embeddings", """{"model":"gemini-embedding-001","input":["x","y"]}""")).Status);
        // Refused before any work: metered under its status, with no tokens.
        Assert.Equal(400, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"temperature":7}}""")).Status);

        var (usageStatus, report) = await server.UsageAsync(server.AdminKey, $"project={project}&by=method");
        Assert.Equal(200, usageStatus);
        var rows = Rows(report);
        Assert.Equal(["batchEmbedContents", "countTokens", "embedContent", "generateContent", "openai.chat.completions", "openai.embeddings", "streamGenerateContent"],
            rows.Keys.Order(StringComparer.Ordinal));

        var generate = rows["generateContent"];
        Assert.Equal((2L, 1L), (L(generate, "requests"), L(generate, "errors")));
        Assert.Equal(L(generateUsage, "promptTokenCount"), L(generate, "promptTokenCount"));
        Assert.Equal(L(generateUsage, "candidatesTokenCount"), L(generate, "candidatesTokenCount"));
        Assert.True(L(generate, "candidatesTokenCount") > 0);

        var stream = rows["streamGenerateContent"];
        Assert.Equal(L(streamUsage, "promptTokenCount"), L(stream, "promptTokenCount"));
        Assert.Equal(L(streamUsage, "candidatesTokenCount"), L(stream, "candidatesTokenCount"));
        Assert.Equal(L(stream, "promptTokenCount"), stream["promptTokensDetails"]![0]!["tokenCount"]!.GetValue<long>());

        Assert.Equal(chat!["usage"]!["prompt_tokens"]!.GetValue<long>(), L(rows["openai.chat.completions"], "promptTokenCount"));
        Assert.Equal((1L, 0L), (L(rows["countTokens"], "requests"), L(rows["countTokens"], "promptTokenCount")));
        foreach (var embed in new[] { "embedContent", "batchEmbedContents", "openai.embeddings" })
            Assert.True(L(rows[embed], "promptTokenCount") > 0, embed);

        // Priced by the Gemini name the client used; the total adds every row.
        Assert.True(generate["estimatedCostUsd"]!.GetValue<decimal>() > 0);
        Assert.Equal(8, L(report!["total"]!, "requests"));
        Assert.Equal("INVALID_ARGUMENT", Rows((await server.UsageAsync(server.AdminKey, $"project={project}&by=status")).Body).Keys.Single(k => k != "OK"));
    }

    [Fact]
    public async Task Batch_requests_are_metered_as_batch_usage_under_the_method_that_created_the_job()
    {
        var (project, key) = await server.NewProjectAsync("batch");
        var client = server.CreateClient(key);
        var operation = await BatchClient.CreateInlineAsync(client, [new { request = BatchClient.Request("Once") }, new { request = BatchClient.Request("Lily") }]);
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(await BatchClient.WaitAsync(client, operation["name"]!.GetValue<string>())));

        await server.FlushAsync();
        var totals = await server.App.Services.GetRequiredService<IUsageStore>()
            .ReadAsync(new UsageQuery(project, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), UsageDimension.Method));
        var batch = Assert.Single(totals);
        Assert.Equal((UsageMethods.BatchGenerateContent, true, 2L, 0L), (batch.Group, batch.Batch, batch.Counts.Requests, batch.Errors));
        Assert.True(batch.Counts.PromptTokens > 0 && batch.Counts.CandidatesTokens > 0);
    }

    [Fact]
    public async Task The_metered_tokens_are_the_usage_metadata_the_responses_reported_cached_tokens_included()
    {
        var (project, key) = await server.NewProjectAsync("fields");
        var client = server.CreateClient(key);
        long prompt = 0, cached = 0, candidates = 0;
        // The same prompt twice: the second reads its prefix from the engine's cache, which usageMetadata reports as cached.
        for (var i = 0; i < 2; i++)
        {
            var (status, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Prompt);
            Assert.Equal(200, status);
            var usage = body!["usageMetadata"]!;
            prompt += usage["promptTokenCount"]!.GetValue<long>();
            cached += usage["cachedContentTokenCount"]?.GetValue<long>() ?? 0;
            candidates += usage["candidatesTokenCount"]!.GetValue<long>();
            Assert.Null(usage["toolUsePromptTokenCount"]);
        }
        Assert.True(cached > 0, "the second request's prefix was cached");

        await server.FlushAsync();
        var (reportStatus, report) = await server.UsageAsync(server.AdminKey, $"project={project}&by=model");
        Assert.Equal(200, reportStatus);
        var row = Assert.Single(report!["rows"]!.AsArray())!;
        Assert.Equal((2L, prompt, cached, candidates, 0L, 0L),
            (row["requests"]!.GetValue<long>(), row["promptTokenCount"]!.GetValue<long>(), row["cachedContentTokenCount"]!.GetValue<long>(),
                row["candidatesTokenCount"]!.GetValue<long>(), row["thoughtsTokenCount"]!.GetValue<long>(), row["toolUsePromptTokenCount"]!.GetValue<long>()));
        Assert.Equal(prompt + candidates, row["totalTokenCount"]!.GetValue<long>());
        var text = Assert.Single(row["promptTokensDetails"]!.AsArray())!;
        Assert.Equal(("TEXT", prompt), (text["modality"]!.GetValue<string>(), text["tokenCount"]!.GetValue<long>()));
        Assert.NotNull(row["averageLatencyMs"]);
    }

    [Fact]
    public async Task Batch_usage_is_recorded_under_the_key_that_submitted_the_job()
    {
        var (project, key) = await server.NewProjectAsync("batch-key");
        var client = server.CreateClient(key);
        var operation = await BatchClient.CreateInlineAsync(client, [new { request = BatchClient.Request("Once") }]);
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(await BatchClient.WaitAsync(client, operation["name"]!.GetValue<string>())));
        Assert.Equal(200, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Prompt)).Status);

        await server.FlushAsync();
        var byKey = await server.App.Services.GetRequiredService<IUsageStore>()
            .ReadAsync(new UsageQuery(project, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), UsageDimension.Key));
        // The batch request and the online call are one key's usage: the key that submitted the job, not a key id of the worker's.
        var keyId = Assert.Single(byKey.Select(t => t.Group).Distinct());
        Assert.NotEqual(Castor.Application.Batches.BatchWorker.CallerKeyId, keyId);
        Assert.Equal([false, true], byKey.Select(t => t.Batch).Order());
    }

    [Fact]
    public async Task Each_Live_API_turn_is_metered_as_a_live_request_with_the_turns_usage()
    {
        var (project, key) = await server.NewProjectAsync("live");
        long prompt = 0;
        await using (var live = await Live.LiveClient.ConnectAsync(Live.LiveClient.Target(server.BaseAddress, key: key)))
        {
            await live.SendAsync("{\"setup\":" + Live.LiveClient.DefaultSetup + "}");
            Assert.NotNull((await live.ReceiveAsync())?["setupComplete"]);
            foreach (var text in new[] { "Once upon a time", "And then?" })
            {
                await live.SendAsync("{\"realtimeInput\":{\"text\":\"" + text + "\"}}");
                prompt += (await live.ReceiveTurnAsync())[^1]["usageMetadata"]!["promptTokenCount"]!.GetValue<long>();
            }
        }

        // A turn is counted when the session has read its stream to the end, which may be just after turnComplete went out.
        var store = server.App.Services.GetRequiredService<IUsageStore>();
        var query = new UsageQuery(project, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), UsageDimension.Method);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<UsageTotal> totals;
        do
        {
            await server.FlushAsync();
            totals = await store.ReadAsync(query);
        } while (totals.Sum(t => t.Counts.Requests) < 2 && DateTime.UtcNow < deadline && await Task.Delay(20).ContinueWith(_ => true));
        var turns = Assert.Single(totals);
        Assert.Equal((UsageMethods.Live, false, 2L), (turns.Group, turns.Batch, turns.Counts.Requests));
        Assert.Equal(prompt, turns.Counts.PromptTokens);
        Assert.True(turns.Counts.CandidatesTokens > 0);
    }

    [Fact]
    public async Task Usage_stays_in_memory_until_a_flush_adds_it_to_the_database()
    {
        var (project, key) = await server.NewProjectAsync("flush");
        Assert.Equal(200, (await server.CreateClient(key).PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Prompt)).Status);
        var store = server.App.Services.GetRequiredService<IUsageStore>();
        var query = new UsageQuery(project, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), UsageDimension.Model);

        Assert.Empty(await store.ReadAsync(query));
        await server.FlushAsync();
        Assert.Equal(1, Assert.Single(await store.ReadAsync(query)).Counts.Requests);
        await server.FlushAsync();
        Assert.Equal(1, Assert.Single(await store.ReadAsync(query)).Counts.Requests);
    }
}
