using System.Text.Json.Nodes;

namespace Castor.IntegrationTests.Metering;

/// <summary>Who may read usage and manage keys through <c>/v1beta/castor/…</c>: no key reads another project's usage; only admin keys manage keys.</summary>
[Collection(UsageCollection.Name)]
public sealed class UsageAdminApiTests(UsageServerFixture server)
{
    private const string Count = """{"contents":[{"role":"user","parts":[{"text":"Once upon a time"}]}]}""";

    private static long Requests(JsonNode? report) => report!["total"]!["requests"]!.GetValue<long>();

    [Fact]
    public async Task An_ordinary_key_reads_its_own_projects_usage_and_never_another_projects()
    {
        var (alpha, alphaKey) = await server.NewProjectAsync("alpha");
        var (beta, betaKey) = await server.NewProjectAsync("beta");
        await server.CreateClient(alphaKey).PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Count);
        for (var i = 0; i < 2; i++) await server.CreateClient(betaKey).PostAsync("/v1beta/models/gemini-2.5-flash:countTokens", Count);

        var (status, own) = await server.UsageAsync(alphaKey, "by=project");
        Assert.Equal(200, status);
        Assert.Equal(alpha, own!["project"]!.GetValue<string>());
        Assert.Equal([alpha], own["rows"]!.AsArray().Select(r => r!["group"]!.GetValue<string>()));
        Assert.Equal(1, Requests(own));

        var (refused, error) = await server.UsageAsync(alphaKey, $"project={beta}");
        Assert.Equal(403, refused);
        Json.AssertRpcError(error, 403, "PERMISSION_DENIED");
        Assert.Equal(403, (await server.UsageAsync(alphaKey, "project=no-such-project")).Status);

        var (_, admin) = await server.UsageAsync(server.AdminKey, $"project={beta}");
        Assert.Equal(2, Requests(admin));
        var (_, everyone) = await server.UsageAsync(server.AdminKey, "by=project");
        var groups = everyone!["rows"]!.AsArray().Select(r => r!["group"]!.GetValue<string>()).ToList();
        Assert.Contains(alpha, groups);
        Assert.Contains(beta, groups);
    }

    [Fact]
    public async Task A_bad_period_or_grouping_is_a_400()
    {
        Assert.Equal(400, (await server.UsageAsync(server.AdminKey, "since=yesterday")).Status);
        Assert.Equal(400, (await server.UsageAsync(server.AdminKey, "by=week")).Status);
    }

    [Fact]
    public async Task The_key_routes_answer_an_ordinary_key_with_403()
    {
        var (_, key) = await server.NewProjectAsync("plain");
        var client = server.CreateClient(key);
        Json.AssertRpcError((await client.GetJsonAsync("/v1beta/castor/keys")).Body, 403, "PERMISSION_DENIED");
        Json.AssertRpcError((await client.PostAsync("/v1beta/castor/keys", """{"project":"plain","admin":true}""")).Body, 403, "PERMISSION_DENIED");
        using var delete = await client.DeleteAsync("/v1beta/castor/keys/k-000000000000");
        Json.AssertRpcError(await Json.ReadAsync(delete), 403, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task An_admin_key_creates_lists_and_revokes_keys()
    {
        var admin = server.CreateClient(server.AdminKey);
        var project = $"made-{Guid.NewGuid():N}"[..20];
        var (status, created) = await admin.PostAsync("/v1beta/castor/keys", $$"""{"project":"{{project}}","displayName":"ci"}""");
        Assert.Equal(200, status);
        var key = created!["key"]!.GetValue<string>();
        var id = created["id"]!.GetValue<string>();
        Assert.Equal(project, created["project"]!.GetValue<string>());
        Assert.EndsWith(key[^4..], created["hint"]!.GetValue<string>());
        Assert.NotNull(created["createTime"]);
        Assert.Equal(200, (await server.CreateClient(key).GetJsonAsync("/v1beta/models")).Status);

        var (_, list) = await admin.GetJsonAsync($"/v1beta/castor/keys?project={project}");
        var listed = Assert.Single(list!["keys"]!.AsArray())!;
        Assert.Equal((id, "ci", false), (listed["id"]!.GetValue<string>(), listed["displayName"]!.GetValue<string>(), listed["admin"]!.GetValue<bool>()));
        Assert.Null(listed["key"]);
        Assert.DoesNotContain(key, list.ToJsonString());

        using (var revoked = await admin.DeleteAsync($"/v1beta/castor/keys/{id}"))
            Assert.Equal(200, (int)revoked.StatusCode);
        Json.AssertRpcError((await server.CreateClient(key).GetJsonAsync("/v1beta/models")).Body, 400, "INVALID_ARGUMENT");
        using var again = await admin.DeleteAsync($"/v1beta/castor/keys/{id}");
        Assert.Equal(404, (int)again.StatusCode);
        Assert.Equal(400, (await admin.PostAsync("/v1beta/castor/keys", """{"project":"Not A Name"}""")).Status);
    }

    [Fact]
    public async Task An_admin_key_cannot_revoke_the_key_it_calls_with()
    {
        // An admin key of its own, so the fixture's admin key and other tests are untouched.
        var (_, made) = await server.CreateClient(server.AdminKey).PostAsync("/v1beta/castor/keys", """{"project":"operators-b","admin":true}""");
        var admin = server.CreateClient(made!["key"]!.GetValue<string>());

        using var self = await admin.DeleteAsync($"/v1beta/castor/keys/{made["id"]!.GetValue<string>()}");
        Json.AssertRpcError(await Json.ReadAsync(self), 400, "FAILED_PRECONDITION");
        Assert.Equal(200, (await admin.GetJsonAsync("/v1beta/castor/keys")).Status);
    }
}
