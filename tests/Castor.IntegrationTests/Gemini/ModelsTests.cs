namespace Castor.IntegrationTests.Gemini;

[Collection(ServerCollection.Name)]
public sealed class ModelsTests(CastorServerFixture server)
{
    private readonly HttpClient _client = server.CreateClient();

    [Fact]
    public async Task List_models_names_the_local_model_and_the_gemini_aliases()
    {
        var (status, body) = await _client.GetJsonAsync("/v1beta/models");
        Assert.Equal(200, status);
        var names = body!["models"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ToList();
        Assert.Equal("models/stories260k", names[0]);
        Assert.Contains("models/gemini-2.5-flash", names);
        Assert.Contains("models/gemini-2.5-pro", names);
        Assert.Null(body["nextPageToken"]);
    }

    [Fact]
    public async Task Paging_visits_every_model_once_and_the_last_page_has_no_token()
    {
        var (_, all) = await _client.GetJsonAsync("/v1beta/models");
        var expected = all!["models"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ToList();

        var seen = new List<string>();
        string? token = null;
        for (var pages = 0; pages < 50; pages++)
        {
            var (status, page) = await _client.GetJsonAsync("/v1beta/models?pageSize=2" + (token is null ? "" : "&pageToken=" + Uri.EscapeDataString(token)));
            Assert.Equal(200, status);
            var models = page!["models"]!.AsArray();
            Assert.True(models.Count <= 2);
            seen.AddRange(models.Select(m => m!["name"]!.GetValue<string>()));
            token = page["nextPageToken"]?.GetValue<string>();
            if (token is null) break;
            Assert.NotEqual("", token);
        }
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task An_invalid_page_token_is_400()
    {
        var (status, body) = await _client.GetJsonAsync("/v1beta/models?pageToken=garbage!!");
        Assert.Equal(400, status);
        Json.AssertRpcError(body, 400, "INVALID_ARGUMENT");
    }

    [Theory]
    [InlineData("/v1beta/models/stories260k", "models/stories260k")]
    [InlineData("/v1beta/models/models/stories260k", "models/stories260k")]
    [InlineData("/v1beta/models/gemini-2.5-flash", "models/gemini-2.5-flash")]
    [InlineData("/v1/models/gemini-3.8-flash", "models/gemini-3.8-flash")]
    public async Task Get_model_describes_limits_methods_and_defaults(string path, string name)
    {
        var (status, body) = await _client.GetJsonAsync(path);
        Assert.Equal(200, status);
        Assert.Equal(name, body!["name"]!.GetValue<string>());
        Assert.Equal("stories260k", body["baseModelId"]!.GetValue<string>());
        Assert.Equal(2047, body["inputTokenLimit"]!.GetValue<int>());
        Assert.True(body["outputTokenLimit"]!.GetValue<int>() > 0);
        var methods = body["supportedGenerationMethods"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.Contains("generateContent", methods);
        Assert.Contains("countTokens", methods);
        Assert.DoesNotContain("embedContent", methods);
        Assert.Equal(1.0, body["temperature"]!.GetValue<double>());
        Assert.Equal(0.95, body["topP"]!.GetValue<double>());
        Assert.Equal(64, body["topK"]!.GetValue<int>());
        Assert.False(body["thinking"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(body["version"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(body["displayName"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(body["description"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Get_unknown_model_is_404()
    {
        var (status, body) = await _client.GetJsonAsync("/v1beta/models/no-such-model");
        Assert.Equal(404, status);
        Json.AssertRpcError(body, 404, "NOT_FOUND");
    }
}
