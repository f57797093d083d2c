using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Castor.Api.Hosting;
using Castor.Application.Keys;
using Json.Schema;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Castor.IntegrationTests.Operations;

/// <summary>/openapi.json validates and lists every mapped route (each custom method its own operation) with the wire schemas of its answers and errors; /docs renders it from the package, no CDN (issue 20).</summary>
[Collection(ServerCollection.Name)]
public sealed partial class ApiDocumentTests(CastorServerFixture server)
{
    private async Task<JsonNode> DocumentAsync() => JsonNode.Parse(await DocumentTextAsync())!;

    /// <summary>The (path, method) pairs the endpoints should appear as: a catch-all route with described operations as each of them, any other route as its pattern.</summary>
    private HashSet<(string Path, string Method)> ExpectedOperations()
    {
        var endpoints = server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true }).ToList();
        Assert.True(endpoints.Count > 40, $"only {endpoints.Count} endpoints");
        var expected = new HashSet<(string, string)>();
        foreach (var endpoint in endpoints)
        {
            var path = "/" + CatchAll().Replace(endpoint.RoutePattern.RawText ?? "", "{").Trim('/');
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m : ["GET"];
            var paths = endpoint.Metadata.GetMetadata<DescribedOperationsMetadata>() is { } described
                ? described.Operations.Select(o => path[..path.LastIndexOf('{')] + o.Path)
                : [path];
            foreach (var p in paths)
            foreach (var method in methods)
                expected.Add((p, method.ToLowerInvariant()));
        }
        return expected;
    }

    private static IEnumerable<(string Path, string Method, JsonNode Operation)> Operations(JsonNode document) =>
        from path in document["paths"]!.AsObject()
        from operation in path.Value!.AsObject()
        where HttpMethods.Contains(operation.Key)
        select (path.Key, operation.Key, operation.Value!);

    [Fact]
    public async Task The_document_validates_and_lists_every_mapped_route_and_method()
    {
        var text = await DocumentTextAsync();
        var document = JsonNode.Parse(text)!;
        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>());
        Assert.Equal("Castor", document["info"]!["title"]!.GetValue<string>());
        // OpenAPI.NET reads it as an OpenAPI 3.1 document and its rules find nothing wrong (path parameters declared, references resolve, …).
        var read = OpenApiDocument.Parse(text, "json");
        Assert.Empty(read.Diagnostic?.Errors ?? []);
        Assert.Empty(read.Document!.Validate(ValidationRuleSet.GetDefaultRuleSet()) ?? []);

        // Every route appears, and nothing that is not served: the custom methods each as their own path.
        var expected = ExpectedOperations();
        var listed = Operations(document).Select(o => (o.Path, o.Method)).ToHashSet();
        Assert.Empty(expected.Except(listed));
        Assert.Empty(listed.Except(expected));
        foreach (var method in new[] { "generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents", "batchGenerateContent", "asyncBatchEmbedContent" })
            Assert.Contains(($"/v1beta/models/{{model}}:{method}", "post"), listed);
    }

    [Fact]
    public async Task Every_operation_has_an_answer_schema_and_its_dialects_error_schema()
    {
        var document = await DocumentAsync();
        var operations = Operations(document).ToList();
        Assert.True(operations.Count > 60);
        foreach (var (path, method, operation) in operations)
        {
            var where = $"{method.ToUpperInvariant()} {path}";
            var responses = operation["responses"]!.AsObject();
            // The Live API's WebSocket upgrades answer 101 and then speak WebSocket messages, which OpenAPI does not describe.
            if (!responses.ContainsKey("101"))
            {
                var content = responses["200"]?["content"]?.AsObject();
                Assert.True(content is { Count: > 0 }, $"{where} has no 200 answer body");
                Assert.All(content, media => Assert.True(media.Value!["schema"] is not null, $"{where} {media.Key} has no schema"));
            }
            var openAI = path.StartsWith("/v1beta/openai/", StringComparison.Ordinal) || path is "/v1beta/chat/completions" or "/v1beta/embeddings";
            var error = openAI ? "#/components/schemas/OpenAIErrorResponse" : "#/components/schemas/ErrorResponse";
            foreach (var range in new[] { "4XX", "5XX" })
                Assert.True(responses[range]?["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>() == error, $"{where} {range} is not {error}");
        }
    }

    [Fact]
    public async Task The_dialects_are_tagged_and_carry_their_wire_schemas()
    {
        var document = await DocumentAsync();
        var paths = document["paths"]!;
        var generate = paths["/v1beta/models/{model}:generateContent"]!["post"]!;
        Assert.Equal("Gemini API", generate["tags"]![0]!.GetValue<string>());
        Assert.Equal("model", generate["parameters"]![0]!["name"]!.GetValue<string>());
        var request = Resolve(document, generate["requestBody"]!["content"]!["application/json"]!["schema"]!).ToJsonString();
        Assert.Contains("\"contents\"", request);
        Assert.Contains("\"generationConfig\"", request);
        Assert.Contains("\"candidates\"", Resolve(document, generate["responses"]!["200"]!["content"]!["application/json"]!["schema"]!).ToJsonString());
        // Each method its own body and answer.
        var count = paths["/v1beta/models/{model}:countTokens"]!["post"]!;
        Assert.Contains("\"generateContentRequest\"", Resolve(document, count["requestBody"]!["content"]!["application/json"]!["schema"]!).ToJsonString());
        Assert.Contains("\"totalTokens\"", Resolve(document, count["responses"]!["200"]!["content"]!["application/json"]!["schema"]!).ToJsonString());
        var stream = paths["/v1beta/models/{model}:streamGenerateContent"]!["post"]!;
        Assert.Equal("#/components/schemas/GenerateContentResponse", stream["responses"]!["200"]!["content"]!["text/event-stream"]!["schema"]!["$ref"]!.GetValue<string>());
        Assert.Contains(stream["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "alt" && p["in"]!.GetValue<string>() == "query");

        // A request as clients send it matches its body's schema; "any JSON" fields (args, responseSchema) admit null, as the wire does.
        AssertMatches(SchemaOf(document, generate["requestBody"]!["content"]!["application/json"]!["schema"]!), "generateContent's body", JsonNode.Parse("""
            {"contents":[{"role":"user","parts":[{"text":"Once"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":null}}]}],
             "generationConfig":{"maxOutputTokens":2,"responseSchema":null},"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"OBJECT"}}]}]}
            """)!);

        var chat = paths["/v1beta/openai/chat/completions"]!["post"]!;
        Assert.Equal("OpenAI-compatible API", chat["tags"]![0]!.GetValue<string>());
        var chatBody = Resolve(document, chat["requestBody"]!["content"]!["application/json"]!["schema"]!).ToJsonString();
        // The OpenAI wire's own snake_case names, not the generator's camelCase.
        Assert.Contains("\"max_tokens\"", chatBody);
        Assert.DoesNotContain("\"maxTokens\"", chatBody);
    }

    /// <summary>
    /// The answers written by hand with a Utf8JsonWriter (errors, batch Operations, OpenAI's embeddings, files and
    /// batches) and the generated ones agree with the schemas the document gives their operations.
    /// </summary>
    [Fact]
    public async Task Real_answers_match_their_operations_schemas()
    {
        var document = await DocumentAsync();
        // A project of its own: the shared server's other tests count the default project's files and batches.
        var created = await server.App.Services.GetRequiredService<ApiKeyService>().CreateKeyAsync("openapi-answers");
        using var client = server.CreateClient(created.Key);

        var (notFound, error) = await client.PostAsync("/v1beta/models/no-such-model:generateContent", """{"contents":[{"parts":[{"text":"x"}]}]}""");
        Assert.Equal(404, notFound);
        AssertMatches(document, "/v1beta/models/{model}:generateContent", "post", "4XX", error!);
        var (openAINotFound, openAIError) = await client.PostAsync("/v1beta/openai/chat/completions", """{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(404, openAINotFound);
        AssertMatches(document, "/v1beta/openai/chat/completions", "post", "4XX", openAIError!);

        var (generated, answer) = await client.PostAsync("/v1beta/models/stories260k:generateContent", """{"contents":[{"parts":[{"text":"Once"}]}],"generationConfig":{"maxOutputTokens":2}}""");
        Assert.Equal(200, generated);
        AssertMatches(document, "/v1beta/models/{model}:generateContent", "post", "200", answer!);
        var (embedded, embeddings) = await client.PostAsync("/v1beta/openai/embeddings", """{"model":"text-embedding-minilm","input":["a","b"]}""");
        Assert.Equal(200, embedded);
        AssertMatches(document, "/v1beta/openai/embeddings", "post", "200", embeddings!);

        var (created1, operation) = await client.PostAsync("/v1beta/models/stories260k:batchGenerateContent",
            """{"batch":{"displayName":"described","inputConfig":{"requests":{"requests":[{"request":{"contents":[{"parts":[{"text":"Once"}]}],"generationConfig":{"maxOutputTokens":2}},"metadata":{"key":"a"}}]}}}}""");
        Assert.Equal(200, created1);
        AssertMatches(document, "/v1beta/models/{model}:batchGenerateContent", "post", "200", operation!);
        var name = operation!["name"]!.GetValue<string>();
        JsonNode done;
        do
        {
            await Task.Delay(50);
            done = (await client.GetJsonAsync("/v1beta/" + name)).Body!;
        } while (done["done"] is null);
        Assert.NotNull(done["metadata"]!["output"]!["inlinedResponses"]);
        AssertMatches(document, "/v1beta/batches/{name}", "get", "200", done);
        AssertMatches(document, "/v1beta/batches", "get", "200", (await client.GetJsonAsync("/v1beta/batches")).Body!);

        using var form = new MultipartFormDataContent();
        var line = """{"custom_id":"1","method":"POST","url":"/v1/chat/completions","body":{"model":"stories260k","messages":[{"role":"user","content":"Once"}],"max_tokens":2}}""";
        form.Add(new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(line + "\n")), "file", "batch.jsonl");
        form.Add(new StringContent("batch"), "purpose");
        using var uploaded = await client.PostAsync("/v1beta/openai/files", form);
        var file = (await Json.ReadAsync(uploaded))!;
        Assert.True(uploaded.IsSuccessStatusCode, file.ToJsonString());
        AssertMatches(document, "/v1beta/openai/files", "post", "200", file);
        var (batched, batch) = await client.PostAsync("/v1beta/openai/batches",
            $$"""{"input_file_id":"{{file["id"]!.GetValue<string>()}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""");
        Assert.Equal(200, batched);
        AssertMatches(document, "/v1beta/openai/batches", "post", "200", batch!);

        using var anonymous = server.CreateClient(apiKey: null);
        AssertMatches(document, "/readyz", "get", "200", JsonNode.Parse(await anonymous.GetStringAsync("/readyz"))!);
    }

    private async Task<string> DocumentTextAsync()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync("/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A schema with its components inlined as $defs, for a JSON Schema 2020-12 validator (OpenAPI 3.1's schemas are that dialect).</summary>
    private static JsonSchema SchemaOf(JsonNode document, JsonNode schema) => JsonSchema.FromText(new JsonObject
    {
        ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
        ["$defs"] = document["components"]!["schemas"]!.DeepClone(),
        ["allOf"] = new JsonArray(schema.DeepClone()),
    }.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal));

    private static void AssertMatches(JsonNode document, string path, string method, string status, JsonNode answer) =>
        AssertMatches(SchemaOf(document, document["paths"]![path]![method]!["responses"]![status]!["content"]!["application/json"]!["schema"]!),
            $"{method.ToUpperInvariant()} {path} {status}", answer);

    private static void AssertMatches(JsonSchema schema, string what, JsonNode instance)
    {
        using var parsed = JsonDocument.Parse(instance.ToJsonString());
        var result = schema.Evaluate(parsed.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{what}: {instance.ToJsonString()}\n" +
            string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    /// <summary>A schema with its top-level reference followed, for assertions on what it holds.</summary>
    private static JsonNode Resolve(JsonNode document, JsonNode schema) =>
        schema["$ref"]?.GetValue<string>() is { } reference
            ? document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!
            : schema;

    private static readonly HashSet<string> HttpMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

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
