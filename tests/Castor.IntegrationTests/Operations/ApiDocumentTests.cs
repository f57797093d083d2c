using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.Operations;

/// <summary>/openapi.json lists every mapped route with the wire schemas; /docs renders it from the package, no CDN (issue 20).</summary>
[Collection(ServerCollection.Name)]
public sealed partial class ApiDocumentTests(CastorServerFixture server)
{
    private async Task<JsonNode> DocumentAsync()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync("/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task The_document_lists_every_mapped_route_and_method()
    {
        var document = await DocumentAsync();
        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>());
        Assert.Equal("Castor", document["info"]!["title"]!.GetValue<string>());
        var paths = document["paths"]!.AsObject();

        var endpoints = server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true }).ToList();
        Assert.True(endpoints.Count > 40, $"only {endpoints.Count} endpoints");
        foreach (var endpoint in endpoints)
        {
            var path = "/" + CatchAll().Replace(endpoint.RoutePattern.RawText ?? "", "{").Trim('/');
            Assert.True(paths.ContainsKey(path), $"{path} ({endpoint.DisplayName}) is not in the document");
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m : ["GET"];
            foreach (var method in methods)
                Assert.True(paths[path]!.AsObject().ContainsKey(method.ToLowerInvariant()), $"{method} {path} is not in the document");
        }
        // Every path the document lists is a route (nothing described that is not served).
        var served = endpoints.Select(e => "/" + CatchAll().Replace(e.RoutePattern.RawText ?? "", "{").Trim('/')).ToHashSet();
        Assert.All(paths.Select(p => p.Key), p => Assert.Contains(p, served));
    }

    [Fact]
    public async Task The_dialects_are_tagged_and_carry_their_wire_schemas()
    {
        var paths = (await DocumentAsync())["paths"]!;
        var generate = paths["/v1beta/models/{nameAndMethod}"]!["post"]!;
        Assert.Equal("Gemini API", generate["tags"]![0]!.GetValue<string>());
        var request = generate["requestBody"]!["content"]!["application/json"]!["schema"]!.ToJsonString();
        Assert.Contains("\"contents\"", request);
        Assert.Contains("\"generationConfig\"", request);
        Assert.Contains("\"candidates\"", generate["responses"]!["200"]!.ToJsonString() + (await DocumentAsync())["components"]!.ToJsonString());

        var chat = paths["/v1beta/openai/chat/completions"]!["post"]!;
        Assert.Equal("OpenAI-compatible API", chat["tags"]![0]!.GetValue<string>());
        var chatBody = chat["requestBody"]!["content"]!["application/json"]!["schema"]!.ToJsonString();
        // The OpenAI wire's own snake_case names, not the generator's camelCase.
        Assert.Contains("\"max_tokens\"", chatBody);
        Assert.DoesNotContain("\"maxTokens\"", chatBody);
    }

    [Fact]
    public async Task The_reference_page_loads_nothing_from_another_host()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        var page = await anonymous.GetStringAsync("/docs/");
        Assert.Contains("<div id=\"app\">", page);
        var references = SourceOrHref().Matches(page).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(references);
        foreach (var reference in references)
        {
            Assert.DoesNotMatch("^(https?:)?//", reference);
            using var asset = await anonymous.GetAsync(new Uri(new Uri(server.BaseAddress, "/docs/"), reference));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        }
        // The configuration turns off the fonts CDN and Scalar's telemetry.
        Assert.Contains("\"withDefaultFonts\":false", page);
        Assert.Contains("\"telemetry\":false", page);
        Assert.DoesNotContain("cdn.", page);
    }

    [GeneratedRegex(@"\{\*\*?")]
    private static partial Regex CatchAll();

    [GeneratedRegex("(?:src|href)=\"([^\"]+)\"")]
    private static partial Regex SourceOrHref();
}
