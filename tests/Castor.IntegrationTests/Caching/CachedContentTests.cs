using System.Net;
using System.Text.Json.Nodes;
using Castor.Application.Backends;
using Castor.Application.Caching;
using Castor.Application.Errors;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Storage.Caches;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Caching;

/// <summary>cachedContents on a real server: the resource, using it in generation, KV snapshots, isolation and expiry.</summary>
[Collection(CachesCollection.Name)]
public sealed class CachedContentTests(CachesServerFixture server)
{
    internal const string Document =
        "Once upon a time there was a little girl named Lily. She loved to play in the park with her red ball. " +
        "One day she saw a big dog near the tree. The dog was sad because it had lost its bone. Lily wanted to help. " +
        "She looked under the bench and behind the slide. At last she found the bone in the sand. The dog was so happy " +
        "that it wagged its tail and licked her hand. Lily smiled and they played together until the sun went down. ";

    internal const string System = "You tell short stories about the document.";

    internal static string CreateBody(string? ttl = "3600s", string document = Document, string model = "models/gemini-2.5-flash") => new JsonObject
    {
        ["model"] = model,
        ["displayName"] = "lily",
        ["ttl"] = ttl,
        ["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = System }) },
        ["contents"] = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = document }) }),
    }.ToJsonString();

    internal static string QuestionBody(string? cachedContent, bool inline = false, int seed = 42) => new JsonObject
    {
        ["cachedContent"] = cachedContent,
        ["systemInstruction"] = inline ? new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = System }) } : null,
        ["contents"] = inline
            ? new JsonArray(
                new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = Document }) },
                new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = "What did Lily find?" }) })
            : new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = "What did Lily find?" }) }),
        ["generationConfig"] = new JsonObject { ["temperature"] = 1.0, ["seed"] = seed, ["maxOutputTokens"] = 24 },
    }.ToJsonString();

    private LlamaBackend Backend => server.App.Services.GetRequiredService<ModelCatalogue>().Models.OfType<LlamaBackend>().Single(m => m.Description.Id == "stories260k");

    [Fact]
    public async Task Create_get_list_update_and_delete_a_cache_as_the_API_does()
    {
        using var client = await NewProjectClientAsync();
        var (status, created) = await client.PostAsync("/v1beta/cachedContents", CreateBody());
        Assert.Equal(200, status);
        var name = (string)created!["name"]!;
        Assert.StartsWith("cachedContents/", name);
        Assert.Equal("models/gemini-2.5-flash", (string)created["model"]!);
        Assert.Equal("lily", (string)created["displayName"]!);
        Assert.Null(created["contents"]);
        Assert.Null(created["systemInstruction"]);
        var tokens = (int)created["usageMetadata"]!["totalTokenCount"]!;
        Assert.True(tokens >= CachesServerFixture.MinCacheTokens, $"{tokens} tokens");
        var createTime = DateTimeOffset.Parse((string)created["createTime"]!);
        Assert.Equal(createTime + TimeSpan.FromHours(1), DateTimeOffset.Parse((string)created["expireTime"]!));

        var (getStatus, got) = await client.GetJsonAsync("/v1alpha/" + name);
        Assert.Equal(200, getStatus);
        Assert.Equal(created.ToJsonString(), got!.ToJsonString());

        // PATCH without updateMask, as @google/genai sends it.
        using (var patch = await client.PatchAsync("/v1beta/" + name, Json.Body("""{"ttl":"7200s"}""")))
        {
            var updated = await Json.ReadAsync(patch);
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            var updateTime = DateTimeOffset.Parse((string)updated!["updateTime"]!);
            Assert.Equal(updateTime + TimeSpan.FromHours(2), DateTimeOffset.Parse((string)updated["expireTime"]!));
        }
        using (var patch = await client.PatchAsync("/v1beta/" + name, Json.Body("""{"expireTime":"2030-01-01T00:00:00Z"}""")))
        {
            var updated = await Json.ReadAsync(patch);
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            Assert.Equal("2030-01-01T00:00:00.000Z", (string)updated!["expireTime"]!);
        }
        using (var patch = await client.PatchAsync("/v1beta/" + name, Json.Body("""{"displayName":"renamed"}""")))
            Assert.Equal("displayName", Field(await Json.ReadAsync(patch), 400, "INVALID_ARGUMENT"));
        using (var patch = await client.PatchAsync("/v1beta/" + name + "?updateMask=contents", Json.Body("""{"ttl":"60s"}""")))
            Assert.Equal("updateMask", Field(await Json.ReadAsync(patch), 400, "INVALID_ARGUMENT"));

        var (_, list) = await client.GetJsonAsync("/v1beta/cachedContents");
        Assert.Equal(name, (string)list!["cachedContents"]![0]!["name"]!);
        Assert.Null(list["nextPageToken"]);

        using (var delete = await client.DeleteAsync("/v1beta/" + name))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
            Assert.Equal("{}", (await Json.ReadAsync(delete))!.ToJsonString());
        }
        var (goneStatus, gone) = await client.GetJsonAsync("/v1beta/" + name);
        Assert.Equal(403, goneStatus);
        Json.AssertRpcError(gone, 403, "PERMISSION_DENIED");
        var (_, empty) = await client.GetJsonAsync("/v1beta/cachedContents");
        Assert.Empty(empty!["cachedContents"]!.AsArray());
    }

    [Fact]
    public async Task Listing_pages_through_every_cache_once()
    {
        using var client = await NewProjectClientAsync();
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
            names.Add((string)(await client.PostAsync("/v1beta/cachedContents", CreateBody()))!.Body!["name"]!);
        var seen = new List<string>();
        string? token = null;
        do
        {
            var (status, page) = await client.GetJsonAsync("/v1beta/cachedContents?pageSize=2" + (token is null ? "" : "&pageToken=" + token));
            Assert.Equal(200, status);
            seen.AddRange(page!["cachedContents"]!.AsArray().Select(c => (string)c!["name"]!));
            token = (string?)page["nextPageToken"];
        } while (token is not null);
        Assert.Equal(names.Order(), seen.Order());
    }

    [Fact]
    public async Task The_answer_with_a_restored_cache_equals_the_answer_with_the_same_contents_inline()
    {
        using var client = await NewProjectClientAsync();
        var (_, created) = await client.PostAsync("/v1beta/cachedContents", CreateBody());
        var name = (string)created!["name"]!;
        var cacheTokens = (int)created["usageMetadata"]!["totalTokenCount"]!;
        var scheduler = Backend.Model.Scheduler;

        // Nothing resident: the cache's prefix must come from its snapshot.
        await scheduler.ReleaseIdlePrefixesAsync();
        var restoredBefore = scheduler.SnapshotsRestored;
        var (status, cached) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", QuestionBody(name));
        Assert.Equal(200, status);
        Assert.Equal(restoredBefore + 1, scheduler.SnapshotsRestored);

        await scheduler.ReleaseIdlePrefixesAsync();
        var (inlineStatus, inline) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", QuestionBody(null, inline: true));
        Assert.Equal(200, inlineStatus);

        Assert.Equal(Text(inline), Text(cached));
        Assert.Equal((int)inline!["usageMetadata"]!["promptTokenCount"]!, (int)cached!["usageMetadata"]!["promptTokenCount"]!);
        Assert.Equal(cacheTokens, (int)cached["usageMetadata"]!["cachedContentTokenCount"]!);

        // countTokens counts the cache's tokens too.
        var (_, counted) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens",
            new JsonObject { ["generateContentRequest"] = JsonNode.Parse(QuestionBody(name)) }.ToJsonString());
        Assert.Equal((int)cached["usageMetadata"]!["promptTokenCount"]!, (int)counted!["totalTokens"]!);

        // Streaming restores it as well and streams the same text.
        await scheduler.ReleaseIdlePrefixesAsync();
        using var response = await client.PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Json.Body(QuestionBody(name)));
        var events = (await response.Content.ReadAsStringAsync()).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Trim()).Where(e => e.StartsWith("data: ", StringComparison.Ordinal))
            .Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.Equal(Text(inline), string.Concat(events.Select(e => (string?)e["candidates"]?[0]?["content"]?["parts"]?[0]?["text"] ?? "")));
        Assert.Equal(cacheTokens, (int)events[^1]["usageMetadata"]!["cachedContentTokenCount"]!);
    }

    [Fact]
    public async Task Candidates_fork_a_restored_cache_like_a_computed_prompt()
    {
        using var client = await NewProjectClientAsync();
        var (_, created) = await client.PostAsync("/v1beta/cachedContents", CreateBody());
        var scheduler = Backend.Model.Scheduler;
        string Two(string? cache, bool inline)
        {
            var body = JsonNode.Parse(QuestionBody(cache, inline))!;
            body["generationConfig"]!["candidateCount"] = 2;
            return body.ToJsonString();
        }

        await scheduler.ReleaseIdlePrefixesAsync();
        var restored = scheduler.SnapshotsRestored;
        var (_, cached) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Two((string)created!["name"]!, inline: false));
        Assert.Equal(restored + 1, scheduler.SnapshotsRestored);
        await scheduler.ReleaseIdlePrefixesAsync();
        var (_, inline) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Two(null, inline: true));

        string Candidate(JsonNode? r, int i) =>
            string.Concat(r!["candidates"]![i]!["content"]!["parts"]!.AsArray().Select(p => (string?)p!["text"] ?? ""));
        Assert.Equal(Candidate(inline, 0), Candidate(cached, 0));
        Assert.Equal(Candidate(inline, 1), Candidate(cached, 1));
    }

    [Fact]
    public async Task A_cache_made_from_an_uploaded_file_holds_its_text_as_the_same_file_inline_gives()
    {
        using var client = await NewProjectClientAsync();
        var file = await Castor.IntegrationTests.Files.Uploads.UploadAsync(client, global::System.Text.Encoding.UTF8.GetBytes(Document), "text/plain");
        var uri = file.GetProperty("uri").GetString()!;
        var fileContents = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["parts"] = new JsonArray(new JsonObject { ["fileData"] = new JsonObject { ["mimeType"] = "text/plain", ["fileUri"] = uri } }),
        });
        var (status, created) = await client.PostAsync("/v1beta/cachedContents", new JsonObject
        {
            ["model"] = "models/gemini-2.5-flash",
            ["contents"] = fileContents,
        }.ToJsonString());
        Assert.Equal(200, status);
        var question = new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = "What did Lily find?" }) };
        var (_, cached) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", new JsonObject
        {
            ["generateContentRequest"] = new JsonObject { ["cachedContent"] = (string)created!["name"]!, ["contents"] = new JsonArray(question.DeepClone()) },
        }.ToJsonString());
        var (_, inline) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", new JsonObject
        {
            ["contents"] = new JsonArray(fileContents[0]!.DeepClone(), question.DeepClone()),
        }.ToJsonString());
        Assert.Equal((int)inline!["totalTokens"]!, (int)cached!["totalTokens"]!);
        Assert.True((int)created["usageMetadata"]!["totalTokenCount"]! >= CachesServerFixture.MinCacheTokens);
    }

    [Fact]
    public async Task The_OpenAI_route_uses_a_cache_named_in_extra_body()
    {
        using var client = await NewProjectClientAsync();
        var (_, created) = await client.PostAsync("/v1beta/cachedContents", CreateBody());
        var cacheTokens = (int)created!["usageMetadata"]!["totalTokenCount"]!;
        var (status, completion) = await client.PostAsync("/v1beta/openai/chat/completions", new JsonObject
        {
            ["model"] = "gemini-2.5-flash",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "What did Lily find?" }),
            ["max_tokens"] = 8,
            ["extra_body"] = new JsonObject { ["google"] = new JsonObject { ["cached_content"] = (string)created["name"]! } },
        }.ToJsonString());
        Assert.Equal(200, status);
        Assert.Equal(cacheTokens, (int)completion!["usage"]!["prompt_tokens_details"]!["cached_tokens"]!);
        Assert.True((int)completion["usage"]!["prompt_tokens"]! > cacheTokens);
    }

    [Fact]
    public async Task Another_projects_cache_is_refused_like_an_unknown_one()
    {
        using var client = await NewProjectClientAsync();
        var (_, created) = await client.PostAsync("/v1beta/cachedContents", CreateBody());
        var name = (string)created!["name"]!;
        using var other = server.CreateClient(server.OtherProjectKey);

        var (getStatus, get) = await other.GetJsonAsync("/v1beta/" + name);
        Assert.Equal(403, getStatus);
        var (unknownStatus, unknown) = await other.GetJsonAsync("/v1beta/cachedContents/doesnotexist");
        Assert.Equal(403, unknownStatus);
        Assert.Equal(((string)get!["error"]!["message"]!).Replace(name, ""), ((string)unknown!["error"]!["message"]!).Replace("cachedContents/doesnotexist", ""));

        var (useStatus, use) = await other.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", QuestionBody(name));
        Assert.Equal(403, useStatus);
        Assert.Contains("cachedContent", (string)use!["error"]!["message"]!);
        using (var patch = await other.PatchAsync("/v1beta/" + name, Json.Body("""{"ttl":"60s"}""")))
            Assert.Equal(HttpStatusCode.Forbidden, patch.StatusCode);
        using (var delete = await other.DeleteAsync("/v1beta/" + name))
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        var (_, list) = await other.GetJsonAsync("/v1beta/cachedContents");
        Assert.DoesNotContain(list!["cachedContents"]!.AsArray(), c => (string)c!["name"]! == name);

        // Still there for its owner.
        Assert.Equal(200, (await client.GetJsonAsync("/v1beta/" + name)).Status);
    }

    [Theory]
    [InlineData("""{"model":"models/gemini-2.5-flash","ttl":"ten minutes","contents":[{"role":"user","parts":[{"text":"x"}]}]}""", "ttl")]
    [InlineData("""{"model":"models/gemini-2.5-flash","ttl":"-5s","contents":[{"role":"user","parts":[{"text":"x"}]}]}""", "ttl")]
    [InlineData("""{"model":"models/gemini-2.5-flash","expireTime":"2030-01-01T00:00:00","contents":[{"role":"user","parts":[{"text":"x"}]}]}""", "expireTime")]
    [InlineData("""{"model":"models/gemini-2.5-flash","ttl":"60s","contents":[{"role":"user","parts":[{"text":"too short"}]}]}""", "contents")]
    [InlineData("""{"ttl":"60s","contents":[{"role":"user","parts":[{"text":"x"}]}]}""", "model")]
    public async Task Bad_create_input_is_a_400_that_names_the_field(string body, string field)
    {
        using var client = await NewProjectClientAsync();
        var (status, error) = await client.PostAsync("/v1beta/cachedContents", body);
        Assert.Equal(400, status);
        Assert.Equal(field, Field(error, 400, "INVALID_ARGUMENT"));
    }

    [Fact]
    public async Task A_cache_below_the_minimum_states_its_count_and_the_minimum()
    {
        using var client = await NewProjectClientAsync();
        var (status, error) = await client.PostAsync("/v1beta/cachedContents", CreateBody(document: "A short one."));
        Assert.Equal(400, status);
        Assert.Contains($"min_total_token_count={CachesServerFixture.MinCacheTokens}", (string)error!["error"]!["message"]!);
        Assert.Matches("total_token_count=[0-9]+", (string)error["error"]!["message"]!);
    }

    [Fact]
    public async Task A_cache_longer_than_the_context_is_a_400()
    {
        using var client = await NewProjectClientAsync();
        var (status, error) = await client.PostAsync("/v1beta/cachedContents", CreateBody(document: string.Concat(Enumerable.Repeat(Document, 40))));
        Assert.Equal(400, status);
        Assert.Contains("more than model", (string)error!["error"]!["message"]!);
    }

    [Fact]
    public async Task A_request_that_names_a_cache_cannot_set_its_own_system_instruction_or_tools_or_use_another_model()
    {
        using var client = await NewProjectClientAsync();
        var (_, created) = await client.PostAsync("/v1beta/cachedContents", CreateBody());
        var body = JsonNode.Parse(QuestionBody((string)created!["name"]!))!;
        body["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = "Other." }) };
        var (status, error) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", body.ToJsonString());
        Assert.Equal("systemInstruction", Field(error, 400, "INVALID_ARGUMENT"));
        Assert.Equal(400, status);

        body = JsonNode.Parse(QuestionBody((string)created["name"]!))!;
        body["tools"] = JsonNode.Parse("""[{"functionDeclarations":[{"name":"f","description":"d"}]}]""");
        (status, error) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", body.ToJsonString());
        Assert.Equal(400, status);
        Assert.Equal("tools", Field(error, 400, "INVALID_ARGUMENT"));

        var (otherModel, mismatch) = await client.PostAsync($"/v1beta/models/{CachesServerFixture.Twin}:generateContent", QuestionBody((string)created["name"]!));
        Assert.Equal(400, otherModel);
        Assert.Equal("model", Field(mismatch, 400, "INVALID_ARGUMENT"));

        var (malformed, bad) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", QuestionBody("cachedContents/Not Valid!"));
        Assert.Equal(400, malformed);
        Assert.Equal("cachedContent", Field(bad, 400, "INVALID_ARGUMENT"));
    }

    [Fact]
    public async Task Deleting_a_cache_lets_a_request_that_uses_it_finish()
    {
        using var client = await NewProjectClientAsync();
        var (_, created) = await client.PostAsync("/v1beta/cachedContents", CreateBody());
        var name = (string)created!["name"]!;
        var body = JsonNode.Parse(QuestionBody(name))!;
        body["generationConfig"]!["maxOutputTokens"] = 200;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse") { Content = Json.Body(body.ToJsonString()) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var delete = await client.DeleteAsync("/v1beta/" + name))
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("finishReason", text);
        Assert.DoesNotContain("\"error\"", text);
        Assert.Equal(403, (await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", QuestionBody(name))).Status);
    }

    [Fact]
    public async Task Expired_caches_are_refused_and_swept_with_their_snapshots()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var (caches, generation) = Services(clock);
        var caller = await NewCallerAsync();
        var cache = await caches.CreateAsync(caller, NewCache("60s"), CancellationToken.None);
        var files = server.App.Services.GetRequiredService<SnapshotFileStore>();
        Assert.True(File.Exists(files.PathOf(caller.ProjectId, cache.Id)));

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(cache.Name, (await caches.GetAsync(caller, cache.Name, CancellationToken.None)).Name);
        Assert.Equal(0, await caches.SweepAsync(CancellationToken.None));

        clock.Advance(TimeSpan.FromSeconds(2));
        var expired = await Assert.ThrowsAsync<CastorException>(() => caches.GetAsync(caller, cache.Name, CancellationToken.None));
        Assert.Equal(ErrorStatus.PermissionDenied, expired.Status);
        var use = await Assert.ThrowsAsync<CastorException>(() => generation.GenerateAsync(caller, new GenerationRequest
        {
            Model = "gemini-2.5-flash",
            CachedContent = cache.Name,
            Contents = [new Content("user", [new TextPart("Hi")])],
        }, CancellationToken.None));
        Assert.Equal(ErrorStatus.PermissionDenied, use.Status);
        Assert.Equal("cachedContent", use.Field!.ToString());

        Assert.Equal(1, await caches.SweepAsync(CancellationToken.None));
        Assert.False(File.Exists(files.PathOf(caller.ProjectId, cache.Id)));
    }

    [Fact]
    public async Task A_damaged_or_foreign_snapshot_file_is_computed_again_from_the_stored_contents()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var (caches, _) = Services(clock);
        var caller = await NewCallerAsync();
        var cache = await caches.CreateAsync(caller, NewCache("600s"), CancellationToken.None);
        var files = server.App.Services.GetRequiredService<SnapshotFileStore>();
        var path = files.PathOf(caller.ProjectId, cache.Id);
        var original = await files.ReadAsync(caller.ProjectId, cache.Id);
        Assert.NotNull(original);

        // One flipped byte in the KV state: the checksum no longer matches, so the file is not trusted.
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(path, bytes);
        Assert.Null(await files.ReadAsync(caller.ProjectId, cache.Id));

        // A fresh service (nothing in memory, as after a restart) resolves it by computing it again, and rewrites the file.
        var (fresh, _) = Services(clock);
        var resolved = await fresh.ResolveAsync(caller, cache.Name, "cachedContent", CancellationToken.None);
        Assert.NotNull(resolved.Snapshot);
        Assert.Equal(original!.Tokens, resolved.Snapshot!.Tokens);
        var rewritten = await files.ReadAsync(caller.ProjectId, cache.Id);
        Assert.NotNull(rewritten);
        // The same positions of the same model: the same size (the values may differ in the last bits when the prefix
        // is decoded in other batch splits, so bytes are not compared).
        Assert.Equal(original.State.Length, rewritten!.State.Length);

        // A snapshot made under another identity (other weights or KV layout) is not restored either.
        await files.WriteAsync(caller.ProjectId, cache.Id, "gguf=other.gguf", original.Tokens, original.State);
        var (third, _) = Services(clock);
        var again = await third.ResolveAsync(caller, cache.Name, "cachedContent", CancellationToken.None);
        Assert.Equal(Backend.SnapshotIdentity, again.Snapshot!.Identity);
        Assert.Equal(Backend.SnapshotIdentity, (await files.ReadAsync(caller.ProjectId, cache.Id))!.Identity);
    }

    private static NewCachedContent NewCache(string ttl) => new()
    {
        Model = "models/gemini-2.5-flash",
        Ttl = ttl,
        SystemInstruction = new Content("user", [new TextPart(System)]),
        Contents = [new Content("user", [new TextPart(Document)])],
    };

    /// <summary>The server's own stores and model, under a clock the test moves.</summary>
    private (CachedContentService Caches, GenerationService Generation) Services(TimeProvider clock)
    {
        var sp = server.App.Services;
        var caches = new CachedContentService(sp.GetRequiredService<ICachedContentStore>(), sp.GetRequiredService<SnapshotFileStore>(),
            sp.GetRequiredService<ModelCatalogue>(), sp.GetRequiredService<CacheSettings>(), clock, NullLogger<CachedContentService>.Instance);
        return (caches, new GenerationService(sp.GetRequiredService<ModelCatalogue>(), caches: caches));
    }

    private async Task<Caller> NewCallerAsync()
    {
        var keys = server.App.Services.GetRequiredService<ApiKeyService>();
        var created = await keys.CreateKeyAsync("c" + Guid.NewGuid().ToString("N")[..12]);
        return (await keys.AuthenticateAsync(created.Key))!;
    }

    private async Task<HttpClient> NewProjectClientAsync()
    {
        var keys = server.App.Services.GetRequiredService<ApiKeyService>();
        var created = await keys.CreateKeyAsync("c" + Guid.NewGuid().ToString("N")[..12]);
        return server.CreateClient(created.Key);
    }

    private static string Text(JsonNode? response) =>
        string.Concat(response!["candidates"]![0]!["content"]!["parts"]!.AsArray().Select(p => (string?)p!["text"] ?? ""));

    private static string Field(JsonNode? body, int status, string rpcStatus)
    {
        var error = Json.AssertRpcError(body, status, rpcStatus);
        return (string)error["details"]![0]!["fieldViolations"]![0]!["field"]!;
    }
}
