using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Application.Batches;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Batches;

/// <summary>The Batch API over HTTP: create (inline and file), the Operation shape, get, list, cancel, delete, and project isolation.</summary>
[Collection(BatchCollection.Name)]
public sealed class BatchApiTests(BatchServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task Create_answers_a_pending_operation_that_the_sdk_parses()
    {
        var operation = await BatchClient.CreateInlineAsync(_client, [new { request = BatchClient.Request("Once upon a time") }], "my-batch");

        var name = operation["name"]!.GetValue<string>();
        Assert.StartsWith("batches/", name);
        var metadata = operation["metadata"]!;
        Assert.Equal("type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch", metadata["@type"]!.GetValue<string>());
        Assert.Equal("models/gemini-2.5-flash", metadata["model"]!.GetValue<string>());
        Assert.Equal("my-batch", metadata["displayName"]!.GetValue<string>());
        Assert.Equal(name, metadata["name"]!.GetValue<string>());
        Assert.Equal("BATCH_STATE_PENDING", metadata["state"]!.GetValue<string>());
        Assert.Equal("1", metadata["batchStats"]!["requestCount"]!.GetValue<string>());
        Assert.Equal("1", metadata["batchStats"]!["pendingRequestCount"]!.GetValue<string>());
        Assert.NotNull(metadata["createTime"]);
        Assert.Null(operation["done"]);
        await BatchClient.WaitAsync(_client, name);
    }

    [Fact]
    public async Task An_inline_batch_succeeds_with_responses_in_input_order_carrying_their_metadata()
    {
        var operation = await BatchClient.CreateInlineAsync(_client,
        [
            new { request = BatchClient.Request("Once upon a time"), metadata = new { key = "req-1" } },
            new { request = BatchClient.Request("Lily had a ball") },
            new { request = BatchClient.Request("The cat sat", 6), metadata = new { key = "req-3" } },
        ]);
        var done = await BatchClient.WaitAsync(_client, operation["name"]!.GetValue<string>());

        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(done));
        Assert.NotNull(done["metadata"]!["endTime"]);
        Assert.Equal(3, BatchClient.Stat(done, "successfulRequestCount"));
        Assert.Equal(0, BatchClient.Stat(done, "pendingRequestCount"));
        var responses = done["metadata"]!["output"]!["inlinedResponses"]!["inlinedResponses"]!.AsArray();
        Assert.Equal(3, responses.Count);
        Assert.Equal("req-1", responses[0]!["metadata"]!["key"]!.GetValue<string>());
        Assert.Null(responses[1]!["metadata"]);
        Assert.Equal("req-3", responses[2]!["metadata"]!["key"]!.GetValue<string>());
        foreach (var response in responses)
        {
            var candidate = response!["response"]!["candidates"]![0]!;
            Assert.False(string.IsNullOrEmpty(candidate["content"]!["parts"]![0]!["text"]!.GetValue<string>()));
            Assert.True(response["response"]!["usageMetadata"]!["promptTokenCount"]!.GetValue<int>() > 0);
        }
        // maxOutputTokens holds per request, as online.
        Assert.Equal(6, responses[2]!["response"]!["usageMetadata"]!["candidatesTokenCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_invalid_inline_request_becomes_its_error_and_the_others_still_run()
    {
        var operation = await BatchClient.CreateInlineAsync(_client,
        [
            new { request = BatchClient.Request("Once upon a time") },
            new { request = new { contents = "not a list" } },
            new { request = new { contents = new[] { new { parts = new[] { new { text = "x" } } } }, generationConfig = new { temperature = 5 } } },
        ]);
        // Refused up front with the online call's rules: both wait in no queue.
        Assert.Equal("2", operation["metadata"]!["batchStats"]!["failedRequestCount"]!.GetValue<string>());
        var done = await BatchClient.WaitAsync(_client, operation["name"]!.GetValue<string>());

        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(done));
        Assert.Equal(1, BatchClient.Stat(done, "successfulRequestCount"));
        Assert.Equal(2, BatchClient.Stat(done, "failedRequestCount"));
        var responses = done["metadata"]!["output"]!["inlinedResponses"]!["inlinedResponses"]!.AsArray();
        Assert.NotNull(responses[0]!["response"]);
        Assert.Equal(400, responses[1]!["error"]!["code"]!.GetValue<int>());
        Assert.Contains("temperature", responses[2]!["error"]!["message"]!.GetValue<string>());
        Assert.Equal("INVALID_ARGUMENT", responses[1]!["error"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_batch_with_no_valid_request_is_refused()
    {
        var body = JsonSerializer.Serialize(new { batch = new { inputConfig = new { requests = new { requests = new[] { new { request = new { contents = 5 } } } } } } });
        var (status, error) = await _client.PostAsync($"/v1beta/models/{BatchClient.Model}:batchGenerateContent", body);
        Assert.Equal(400, status);
        Json.AssertRpcError(error, 400, "INVALID_ARGUMENT");

        var (unknownModel, modelError) = await _client.PostAsync("/v1beta/models/no-such-model:batchGenerateContent",
            JsonSerializer.Serialize(new { batch = new { inputConfig = new { requests = new { requests = new[] { new { request = BatchClient.Request("x") } } } } } }));
        Assert.Equal(404, unknownModel);
        Json.AssertRpcError(modelError, 404, "NOT_FOUND");
    }

    [Fact]
    public async Task A_file_batch_writes_a_responses_file_with_one_line_per_key_and_malformed_lines_as_errors()
    {
        var lines = Enumerable.Range(0, 6).Select(i => BatchClient.Line($"k{i}", BatchClient.Request($"Story {i}"))).ToList();
        lines.Insert(3, "{not json");
        var input = await BatchClient.UploadJsonlAsync(_client, lines);
        var operation = await BatchClient.CreateFromFileAsync(_client, input);
        Assert.Equal("7", operation["metadata"]!["batchStats"]!["requestCount"]!.GetValue<string>());

        var done = await BatchClient.WaitAsync(_client, operation["name"]!.GetValue<string>());
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(done));
        Assert.Equal(6, BatchClient.Stat(done, "successfulRequestCount"));
        Assert.Equal(1, BatchClient.Stat(done, "failedRequestCount"));
        var responsesFile = done["metadata"]!["output"]!["responsesFile"]!.GetValue<string>();
        Assert.StartsWith("files/", responsesFile);

        var (fileStatus, file) = await _client.GetJsonAsync("/v1beta/" + responsesFile);
        Assert.Equal(200, fileStatus);
        Assert.Equal("ACTIVE", file!["state"]!.GetValue<string>());
        var text = await _client.GetStringAsync($"/v1beta/{responsesFile}:download?alt=media");
        var output = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(7, output.Count);
        Assert.Equal(["k0", "k1", "k2", "k3", "k4", "k5"], output.Where(l => l["key"] is not null).Select(l => l["key"]!.GetValue<string>()).Order());
        Assert.All(output.Where(l => l["key"] is not null), l => Assert.NotNull(l["response"]!["candidates"]));
        Assert.Equal(400, output.Single(l => l["key"] is null)["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_embeddings_batch_answers_one_embedding_per_request()
    {
        var requests = new[] { "a cat", "a dog" }.Select(text => new
        {
            request = new { content = new { parts = new[] { new { text } } }, taskType = "SEMANTIC_SIMILARITY", outputDimensionality = 8 },
        });
        var operation = await BatchClient.CreateInlineAsync(_client, requests, "emb-batch", "asyncBatchEmbedContent", "gemini-embedding-001");
        Assert.Equal("type.googleapis.com/google.ai.generativelanguage.v1main.EmbedContentBatch", operation["metadata"]!["@type"]!.GetValue<string>());

        var done = await BatchClient.WaitAsync(_client, operation["name"]!.GetValue<string>());
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State(done));
        var responses = done["metadata"]!["output"]!["inlinedResponses"]!["inlinedResponses"]!.AsArray();
        Assert.Equal(2, responses.Count);
        Assert.All(responses, r => Assert.Equal(8, r!["response"]!["embedding"]!["values"]!.AsArray().Count));
    }

    [Fact]
    public async Task Cancel_ends_the_job_cancelled_and_requests_not_started_are_not_run()
    {
        var requests = Enumerable.Range(0, 40).Select(i => new { request = BatchClient.Request($"Tale {i}", 48) });
        var operation = await BatchClient.CreateInlineAsync(_client, requests);
        var name = operation["name"]!.GetValue<string>();

        var (status, body) = await _client.PostAsync($"/v1beta/{name}:cancel", "{}");
        Assert.Equal(200, status);
        Assert.Equal("{}", body!.ToJsonString());
        var done = await BatchClient.WaitAsync(_client, name);

        Assert.Equal("BATCH_STATE_CANCELLED", BatchClient.State(done));
        Assert.True(BatchClient.Stat(done, "pendingRequestCount") > 0, done.ToJsonString());
        Assert.Equal(40, BatchClient.Stat(done, "successfulRequestCount") + BatchClient.Stat(done, "failedRequestCount") + BatchClient.Stat(done, "pendingRequestCount"));
        // Partial results are kept: one entry per request, answered or not.
        Assert.Equal(40, done["metadata"]!["output"]!["inlinedResponses"]!["inlinedResponses"]!.AsArray().Count);
    }

    [Fact]
    public async Task Delete_removes_the_job()
    {
        var operation = await BatchClient.CreateInlineAsync(_client, [new { request = BatchClient.Request("Once") }]);
        var name = operation["name"]!.GetValue<string>();
        using var deleted = await _client.DeleteAsync("/v1beta/" + name);
        Assert.Equal(200, (int)deleted.StatusCode);

        var (status, error) = await _client.GetJsonAsync("/v1beta/" + name);
        Assert.Equal(404, status);
        Json.AssertRpcError(error, 404, "NOT_FOUND");
    }

    [Fact]
    public async Task List_pages_through_the_projects_jobs_newest_first_in_operations()
    {
        var first = await BatchClient.CreateInlineAsync(_client, [new { request = BatchClient.Request("One") }]);
        var second = await BatchClient.CreateInlineAsync(_client, [new { request = BatchClient.Request("Two") }]);

        var (status, page) = await _client.GetJsonAsync("/v1beta/batches?pageSize=1");
        Assert.Equal(200, status);
        Assert.Equal(second["name"]!.GetValue<string>(), page!["operations"]![0]!["name"]!.GetValue<string>());
        var token = page["nextPageToken"]!.GetValue<string>();
        var (_, next) = await _client.GetJsonAsync("/v1beta/batches?pageSize=1&pageToken=" + Uri.EscapeDataString(token));
        Assert.Equal(first["name"]!.GetValue<string>(), next!["operations"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Other_projects_cannot_see_cancel_or_delete_a_job_or_read_its_output()
    {
        var input = await BatchClient.UploadJsonlAsync(_client, [BatchClient.Line("only", BatchClient.Request("Once"))]);
        var operation = await BatchClient.CreateFromFileAsync(_client, input);
        var name = operation["name"]!.GetValue<string>();
        var done = await BatchClient.WaitAsync(_client, name);
        var responsesFile = done["metadata"]!["output"]!["responsesFile"]!.GetValue<string>();

        using var other = server.CreateClient(server.OtherProjectKey);
        Assert.Equal(404, (await other.GetJsonAsync("/v1beta/" + name)).Status);
        Assert.Equal(404, (await other.PostAsync($"/v1beta/{name}:cancel", "{}")).Status);
        using (var delete = await other.DeleteAsync("/v1beta/" + name)) Assert.Equal(404, (int)delete.StatusCode);
        Assert.Equal(404, (await other.GetJsonAsync("/v1beta/" + responsesFile)).Status);
        var (_, listing) = await other.GetJsonAsync("/v1beta/batches");
        Assert.DoesNotContain(listing!["operations"]!.AsArray(), o => o!["name"]!.GetValue<string>() == name);
        // Nor may another project name this project's file as its input.
        var (inputStatus, _) = await other.PostAsync($"/v1beta/models/{BatchClient.Model}:batchGenerateContent",
            JsonSerializer.Serialize(new { batch = new { inputConfig = new { fileName = input } } }));
        Assert.Equal(404, inputStatus);

        Assert.Equal(200, (await _client.GetJsonAsync("/v1beta/" + name)).Status);
    }

    [Fact]
    public async Task An_interactive_request_is_answered_while_a_large_batch_is_still_running()
    {
        var requests = Enumerable.Range(0, 60).Select(i => new { request = BatchClient.Request($"Tale {i}", 32) });
        var operation = await BatchClient.CreateInlineAsync(_client, requests);
        var name = operation["name"]!.GetValue<string>();
        // Wait until batch work holds the engine.
        while (BatchClient.State((await _client.GetJsonAsync("/v1beta/" + name)).Body!) == "BATCH_STATE_PENDING") await Task.Delay(20);

        var (status, answer) = await _client.PostAsync($"/v1beta/models/{BatchClient.Model}:generateContent", JsonSerializer.Serialize(BatchClient.Request("Once upon a time", 8)));
        Assert.Equal(200, status);
        Assert.NotNull(answer!["candidates"]);

        // Interactive first: answered while most of the batch still waits (batch requests leave a sequence free and queue behind).
        var (_, during) = await _client.GetJsonAsync("/v1beta/" + name);
        Assert.True(BatchClient.Stat(during!, "pendingRequestCount") > 0, during!.ToJsonString());
        Assert.Null(during!["done"]);
        await _client.PostAsync($"/v1beta/{name}:cancel", "{}");
        await BatchClient.WaitAsync(_client, name);
    }

    [Fact]
    public void Batch_work_fills_every_sequence_since_interactive_requests_preempt_it()
    {
        // Interactive requests no longer need a sequence kept free: the engine preempts batch sequences for them
        // (BatchYieldTests), so batch work runs on all of them (issue 16: a throughput ceiling of 1.0, not (p − 1) / p).
        var worker = server.App.Services.GetRequiredService<BatchWorker>();
        var parallel = server.App.Services.GetRequiredService<Castor.Application.Models.ModelCatalogue>().DefaultGenerative!.Description.Parallel;
        Assert.Equal(parallel, worker.Concurrency);
    }
}
