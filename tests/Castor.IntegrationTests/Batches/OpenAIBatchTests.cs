using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Batches;

/// <summary>OpenAI's files + batches calls over HTTP, on the same jobs as the native Batch API.</summary>
[Collection(BatchCollection.Name)]
public sealed class OpenAIBatchTests(BatchServerFixture server)
{
    private HttpClient Bearer()
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CastorServerFixture.ApiKey);
        return client;
    }

    private static string Line(string customId, object body) =>
        JsonSerializer.Serialize(new { custom_id = customId, method = "POST", url = "/v1/chat/completions", body });

    [Fact]
    public async Task A_chat_completions_batch_runs_and_its_output_file_has_one_line_per_custom_id()
    {
        using var client = Bearer();
        var jsonl = string.Join("\n",
            Line("1", new { model = BatchClient.Model, messages = new[] { new { role = "user", content = "Once upon a time" } }, max_tokens = 4 }),
            Line("2", new { model = BatchClient.Model, messages = new[] { new { role = "user", content = "Lily" } }, max_tokens = 4 }),
            Line("3", new { model = BatchClient.Model, messages = Array.Empty<object>() })) + "\n";
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(jsonl));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "batch.jsonl");
        form.Add(new StringContent("batch"), "purpose");
        using var uploaded = await client.PostAsync("/v1beta/openai/files", form);
        var fileObject = await Json.ReadAsync(uploaded);
        Assert.True(uploaded.IsSuccessStatusCode, fileObject?.ToJsonString());
        Assert.Equal("file", fileObject!["object"]!.GetValue<string>());
        var fileId = fileObject["id"]!.GetValue<string>();

        var (status, batch) = await client.PostAsync("/v1beta/openai/batches",
            JsonSerializer.Serialize(new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "24h" }));
        Assert.True(status == 200, batch?.ToJsonString());
        Assert.Equal("batch", batch!["object"]!.GetValue<string>());
        Assert.Equal(3, batch["request_counts"]!["total"]!.GetValue<int>());
        var id = batch["id"]!.GetValue<string>();

        JsonNode retrieved;
        do
        {
            await Task.Delay(50);
            retrieved = (await client.GetJsonAsync("/v1beta/openai/batches/" + Uri.EscapeDataString(id))).Body!;
        } while (retrieved["status"]!.GetValue<string>() is "validating" or "in_progress" or "finalizing");
        Assert.Equal("completed", retrieved["status"]!.GetValue<string>());
        Assert.Equal(2, retrieved["request_counts"]!["completed"]!.GetValue<int>());
        Assert.Equal(1, retrieved["request_counts"]!["failed"]!.GetValue<int>());

        var output = await client.GetStringAsync($"/v1beta/openai/files/{Uri.EscapeDataString(retrieved["output_file_id"]!.GetValue<string>())}/content");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToDictionary(l => l["custom_id"]!.GetValue<string>());
        Assert.Equal(["1", "2", "3"], lines.Keys.Order());
        Assert.Equal(200, lines["1"]["response"]!["status_code"]!.GetValue<int>());
        Assert.Equal("chat.completion", lines["1"]["response"]!["body"]!["object"]!.GetValue<string>());
        Assert.Equal(400, lines["3"]["response"]!["status_code"]!.GetValue<int>());
        Assert.NotNull(lines["3"]["response"]!["body"]!["error"]!["message"]);

        // The same job through the native API.
        using var native = server.CreateClient();
        Assert.Equal("BATCH_STATE_SUCCEEDED", BatchClient.State((await native.GetJsonAsync("/v1beta/" + id)).Body!));
    }
}
