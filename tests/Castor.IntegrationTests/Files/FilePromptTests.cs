using System.Text;
using System.Text.Json.Nodes;
using Castor.Storage.Files;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Files;

/// <summary>fileData and inlineData parts in countTokens and generateContent: text and PDFs enter the prompt as text; other media are refused by type.</summary>
[Collection(FilesCollection.Name)]
public sealed class FilePromptTests(FilesServerFixture server)
{
    private const string Story = "Lily had a red ball. She liked to play with it in the park.";
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task An_uploaded_text_file_counts_exactly_like_its_text_whichever_uri_form_names_it()
    {
        var file = await Uploads.UploadAsync(_client, Encoding.UTF8.GetBytes(Story), "text/plain");
        var expected = await CountAsync(Parts(new JsonObject { ["text"] = "Read:" }, new JsonObject { ["text"] = Story }));

        foreach (var uri in new[] { file.GetProperty("uri").GetString()!, file.GetProperty("name").GetString()!,
                     "https://generativelanguage.googleapis.com/v1beta/" + file.GetProperty("name").GetString() })
        {
            var counted = await CountAsync(Parts(new JsonObject { ["text"] = "Read:" }, FileData(uri, "text/plain")));
            Assert.Equal(expected, counted);
        }
    }

    [Fact]
    public async Task Inline_text_json_and_csv_enter_the_prompt_as_their_text()
    {
        foreach (var (mime, text) in new[] { ("text/plain", Story), ("application/json", """{"hero":"Lily"}"""), ("text/csv", "a,b\n1,2\n"), ("text/x-python", "print('hi')") })
        {
            var inline = new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = mime, ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) } };
            Assert.Equal(await CountAsync(Parts(new JsonObject { ["text"] = text })), await CountAsync(Parts(inline)));
        }
    }

    [Fact]
    public async Task Generate_content_reads_an_uploaded_file_and_an_uploaded_pdf()
    {
        var text = await Uploads.UploadAsync(_client, Encoding.UTF8.GetBytes(Story), "text/plain");
        var pdf = await UploadPdfAsync(TestPdf.Create("Once upon a time", "there was a cat"));
        var request = new JsonObject
        {
            ["contents"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["parts"] = new JsonArray(FileData(text.GetProperty("uri").GetString()!, "text/plain"), FileData((string)pdf["uri"]!, "application/pdf"),
                    new JsonObject { ["text"] = "Once upon a time" }),
            }),
            ["generationConfig"] = new JsonObject { ["maxOutputTokens"] = 8, ["seed"] = 1 },
        };
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", request.ToJsonString());
        Assert.Equal(200, status);
        var prompt = (int)body!["usageMetadata"]!["promptTokenCount"]!;
        // The prompt holds the file's text and the PDF's pages: as many tokens as the same text sent as text parts.
        var asText = await CountAsync(Parts(new JsonObject { ["text"] = Story }, new JsonObject { ["text"] = "[Page 1]\nOnce upon a time\n\n[Page 2]\nthere was a cat" },
            new JsonObject { ["text"] = "Once upon a time" }));
        Assert.Equal(asText, prompt);
        Assert.False(string.IsNullOrEmpty((string?)body["candidates"]![0]!["content"]!["parts"]![0]!["text"]));
    }

    [Fact]
    public async Task A_pdf_is_processing_until_its_pages_are_extracted_and_an_inline_pdf_reads_the_same()
    {
        var bytes = TestPdf.Create("Once upon a time", "there was a cat");
        var pdf = await UploadPdfAsync(bytes);
        Assert.Equal("ACTIVE", (string)pdf["state"]!);
        var fromFile = await CountAsync(Parts(FileData((string)pdf["name"]!, "application/pdf")));
        var inline = new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = "application/pdf", ["data"] = Convert.ToBase64String(bytes) } };
        Assert.Equal(fromFile, await CountAsync(Parts(inline)));
        Assert.Equal(fromFile, await CountAsync(Parts(new JsonObject { ["text"] = "[Page 1]\nOnce upon a time\n\n[Page 2]\nthere was a cat" })));
    }

    [Fact]
    public async Task A_file_that_is_not_a_readable_pdf_fails_processing_with_an_error_and_is_refused_in_prompts()
    {
        var file = await Uploads.UploadAsync(_client, "%PDF-1.4 this is not really a PDF"u8.ToArray(), "application/pdf");
        Assert.Equal("PROCESSING", file.GetProperty("state").GetString());
        var name = file.GetProperty("name").GetString()!;
        var done = await WaitWhileProcessingAsync(name);
        Assert.Equal("FAILED", (string)done["state"]!);
        Assert.Equal(400, (int)done["error"]!["code"]!);
        Assert.Contains("PDF", (string)done["error"]!["message"]!);

        var (status, error) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Parts(FileData(name, "application/pdf")));
        Assert.Equal(400, status);
        Json.AssertRpcError(error, 400, "FAILED_PRECONDITION");
    }

    [Fact]
    public async Task A_file_still_processing_is_refused_as_the_api_refuses_it()
    {
        // A row in PROCESSING, as a large PDF stays while its pages are read.
        var file = await Uploads.UploadAsync(_client, Encoding.UTF8.GetBytes(Story), "text/plain");
        var id = file.GetProperty("name").GetString()!["files/".Length..];
        var store = server.App.Services.GetRequiredService<IFileStore>();
        var projectId = (await store.InStateAsync(FileState.Active, 10_000)).Single(f => f.Id == id).ProjectId;
        Assert.True(await store.SetStateAsync(projectId, id, FileState.Processing, null, DateTimeOffset.UtcNow));

        var (status, error) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Parts(FileData("files/" + id, "text/plain")));
        Assert.Equal(400, status);
        var body = Json.AssertRpcError(error, 400, "FAILED_PRECONDITION");
        Assert.Contains("not in an ACTIVE state", (string)body["message"]!);
    }

    [Fact]
    public async Task Media_the_model_cannot_read_are_refused_naming_their_type()
    {
        var png = new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = "image/png", ["data"] = "iVBORw0KGgo=" } };
        var (status, error) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Parts(new JsonObject { ["text"] = "Describe" }, png));
        Assert.Equal(400, status);
        var body = Json.AssertRpcError(error, 400, "INVALID_ARGUMENT");
        Assert.Contains("image/png", (string)body["message"]!);
        Assert.Equal("contents[0].parts[1].inlineData.mimeType", (string)body["details"]![0]!["fieldViolations"]![0]!["field"]!);

        var video = await Uploads.UploadAsync(_client, new byte[] { 0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70 }, "video/mp4");
        (status, error) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Parts(FileData(video.GetProperty("uri").GetString()!, "video/mp4")));
        Assert.Equal(400, status);
        Assert.Contains("video/mp4", (string)Json.AssertRpcError(error, 400, "INVALID_ARGUMENT")["message"]!);

        (status, error) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens",
            Parts(new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = "text/plain", ["data"] = "***" } }));
        Assert.Equal(400, status);
        Assert.Contains("base64", (string)Json.AssertRpcError(error, 400, "INVALID_ARGUMENT")["message"]!);
    }

    [Fact]
    public async Task A_file_uri_that_names_no_file_of_this_server_is_refused()
    {
        var (status, error) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Parts(FileData("https://www.youtube.com/watch?v=abc", "video/mp4")));
        Assert.Equal(400, status);
        Json.AssertRpcError(error, 400, "INVALID_ARGUMENT");
        (status, error) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Parts(FileData("files/doesnotexist", "text/plain")));
        Assert.Equal(403, status);
        Json.AssertRpcError(error, 403, "PERMISSION_DENIED");
    }

    private async Task<JsonNode> UploadPdfAsync(byte[] bytes)
    {
        var file = await Uploads.UploadAsync(_client, bytes, "application/pdf", displayName: "story.pdf");
        return await WaitWhileProcessingAsync(file.GetProperty("name").GetString()!);
    }

    /// <summary>Polls files.get as clients do for media; the deadline only turns a hang into a failure.</summary>
    private async Task<JsonNode> WaitWhileProcessingAsync(string name)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var (status, file) = await _client.GetJsonAsync("/v1beta/" + name);
            Assert.Equal(200, status);
            if ((string)file!["state"]! != "PROCESSING" || DateTime.UtcNow > deadline) return file;
            await Task.Delay(50);
        }
    }

    private async Task<int> CountAsync(string request)
    {
        var (status, body) = await _client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", request);
        Assert.True(status == 200, body?.ToJsonString());
        return (int)body!["totalTokens"]!;
    }

    private static string Parts(params JsonObject[] parts) =>
        new JsonObject { ["contents"] = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(parts) }) }.ToJsonString();

    private static JsonObject FileData(string uri, string mimeType) => new() { ["fileData"] = new JsonObject { ["mimeType"] = mimeType, ["fileUri"] = uri } };
}
