using System.Text.Json;
using Castor.Api.Hosting;
using Castor.Application.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Castor.IntegrationTests.Security;

/// <summary>
/// Routes mapped after the fact, the way a new API (the Live socket under /ws, a new /v1beta method) will be: nothing
/// but the mapping itself, no list of protected paths edited. Each must refuse a request without a valid key, in the
/// error shape of whoever owns the path, and serve the caller its key belongs to.
/// </summary>
public sealed class NewRoutesFixture : CastorServerFixture
{
    protected override void MapRoutes(WebApplication app)
    {
        // Plain endpoints, outside any adapter's group: deny by default still covers them.
        app.MapGet("/v1beta/brandNewMethod", (HttpContext context) => Results.Text(context.Caller().ProjectName));
        app.MapGet("/ws/brandNewSocket", (HttpContext context) => Results.Text(context.Caller().ProjectName));
        app.MapGet("/v1beta/openai/brandNew", (HttpContext context) => Results.Text(context.Caller().ProjectName));
        app.MapGet("/v1beta/brandNewPublic", () => Results.Text("public")).AllowAnonymous();
        // A new adapter's group brings its own error shape.
        app.MapApiGroup("/v1test", TeapotErrors.Instance).MapGet("/thing", (HttpContext context) => Results.Text(context.Caller().ProjectName));
    }

    /// <summary>An error shape no real wire uses, so the test sees that the group's writer was chosen.</summary>
    private sealed class TeapotErrors : IApiErrorWriter
    {
        public static readonly TeapotErrors Instance = new();

        public int HttpStatus(CastorException error) => 418;

        public byte[] ToJson(CastorException error) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["teapot"] = error.Message });
    }
}

public sealed class NewRouteAuthenticationTests(NewRoutesFixture server) : IClassFixture<NewRoutesFixture>
{
    [Theory]
    [InlineData("/v1beta/brandNewMethod")]
    [InlineData("/ws/brandNewSocket")]
    [InlineData("/V1BETA/brandNewMethod")]
    public async Task A_new_route_without_a_key_is_refused_in_the_Gemini_shape(string path)
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync(path);
        Assert.Equal(403, (int)response.StatusCode);
        Json.AssertRpcError(await Json.ReadAsync(response), 403, "PERMISSION_DENIED");
    }

    [Theory]
    [InlineData("/v1beta/brandNewMethod")]
    [InlineData("/ws/brandNewSocket")]
    public async Task A_new_route_with_an_unknown_key_is_refused_as_API_KEY_INVALID(string path)
    {
        using var client = server.CreateClient(apiKey: "not-a-key");
        using var response = await client.GetAsync(path);
        Assert.Equal(400, (int)response.StatusCode);
        var error = Json.AssertRpcError(await Json.ReadAsync(response), 400, "INVALID_ARGUMENT");
        Assert.Equal("API_KEY_INVALID", error["details"]![0]!["reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/v1beta/brandNewMethod")]
    [InlineData("/ws/brandNewSocket")]
    [InlineData("/v1beta/openai/brandNew")]
    [InlineData("/v1test/thing")]
    public async Task A_new_route_with_a_key_serves_the_keys_project(string path)
    {
        using var client = server.CreateClient();
        using var response = await client.GetAsync(path);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("default", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_new_route_under_the_OpenAI_prefix_is_refused_in_OpenAIs_shape()
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/v1beta/openai/brandNew");
        Assert.Equal(401, (int)response.StatusCode);
        var error = (await Json.ReadAsync(response))!["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Null(error["status"]);
    }

    [Fact]
    public async Task A_new_adapters_group_answers_in_its_own_error_shape()
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/v1test/thing");
        Assert.Equal(418, (int)response.StatusCode);
        Assert.NotNull((await Json.ReadAsync(response))!["teapot"]);
    }

    [Fact]
    public async Task A_route_marked_anonymous_needs_no_key()
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/v1beta/brandNewPublic");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("public", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_path_outside_the_API_needs_no_key_and_is_not_found()
    {
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.GetAsync("/nothing-here");
        Assert.Equal(404, (int)response.StatusCode);
        Json.AssertRpcError(await Json.ReadAsync(response), 404, "NOT_FOUND");
    }
}
