using System.Net.Http.Headers;
using Castor.Application.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Gemini;

[Collection(ServerCollection.Name)]
public sealed class AuthTests(CastorServerFixture server)
{
    private const string Body = """{"contents":[{"parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":1}}""";
    private const string Path = "/v1beta/models/gemini-2.5-flash:generateContent";

    [Theory]
    [InlineData("/v1beta/models")]
    [InlineData("/v1/models/gemini-2.5-flash")]
    [InlineData("/v1beta/models/gemini-2.5-flash:countTokens")]
    public async Task A_missing_key_is_403_PERMISSION_DENIED_on_every_api_route(string path)
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = path.Contains(':') ? await client.PostAsync(path, Json.Body(Body)) : await client.GetAsync(path);
        Assert.Equal(403, (int)response.StatusCode);
        Json.AssertRpcError(await Json.ReadAsync(response), 403, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task A_wrong_key_is_400_API_KEY_INVALID_with_error_info()
    {
        using var client = server.CreateClient(apiKey: "not-a-real-key");
        var (status, body) = await client.PostAsync(Path, Body);
        Assert.Equal(400, status);
        var error = Json.AssertRpcError(body, 400, "INVALID_ARGUMENT");
        Assert.Equal("API key not valid. Please pass a valid API key.", error["message"]!.GetValue<string>());
        var info = error["details"]![0]!;
        Assert.Equal("type.googleapis.com/google.rpc.ErrorInfo", info["@type"]!.GetValue<string>());
        Assert.Equal("API_KEY_INVALID", info["reason"]!.GetValue<string>());
        Assert.Equal("generativelanguage.googleapis.com", info["metadata"]!["service"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_key_may_come_as_a_query_parameter()
    {
        using var client = server.CreateClient(apiKey: null);
        var (status, _) = await client.PostAsync(Path + "?key=" + CastorServerFixture.ApiKey, Body);
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task The_key_may_come_as_a_bearer_token()
    {
        using var client = server.CreateClient(apiKey: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CastorServerFixture.ApiKey);
        var (status, _) = await client.PostAsync(Path, Body);
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Keys_of_other_projects_work_and_a_revoked_key_is_refused()
    {
        var keys = server.App.Services.GetRequiredService<ApiKeyService>();
        var created = await keys.CreateKeyAsync("second-project");
        using var client = server.CreateClient(apiKey: created.Key);
        Assert.Equal(200, (await client.PostAsync(Path, Body)).Status);

        Assert.True(await keys.RevokeAsync(created.Id));
        var (status, body) = await client.PostAsync(Path, Body);
        Assert.Equal(400, status);
        Assert.Equal("API_KEY_INVALID", body!["error"]!["details"]![0]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Health_needs_no_key()
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/healthz");
        Assert.Equal(200, (int)response.StatusCode);
    }
}
