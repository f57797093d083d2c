using System.Diagnostics;
using System.Text.Json.Nodes;
using Castor.Application.Backends;
using Castor.Application.Models;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.IntegrationTests.FirstRun;

/// <summary>
/// Castor as <c>castor serve</c> starts it: the appsettings.json that ships beside the executable, loaded by the CLI's
/// own loader; only where to listen, the model, the data folder and a key are set here.
/// </summary>
public sealed class ShippedConfigurationFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")), "the CLI's appsettings.json is not beside the tests");
        var options = Castor.Cli.OptionsLoader.Load(configFile: null);
        options.Urls = "http://127.0.0.1:0";
        options.Models = [TestModels.Stories260K];
        options.Data = DataFolder;
        options.ApiKey = ApiKey;
        return options;
    }
}

public sealed class ShippedConfigurationTests(ShippedConfigurationFixture server) : IClassFixture<ShippedConfigurationFixture>
{
    private const string Stream = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";

    [Fact]
    public void The_shipped_settings_leave_parallelism_to_the_engine_and_the_banner_says_what_it_chose()
    {
        var model = server.App.Services.GetRequiredService<ModelCatalogue>().Models.OfType<LlamaBackend>().Single().Model;
        Assert.Equal(Castor.Engine.Models.EngineOptions.DefaultParallel(model.ContextSize), model.Parallel);
        Assert.True(model.Parallel > 1, $"the default sizing gave {model.Parallel} sequences");
        Assert.Equal(model.Parallel * model.ContextSize, model.KvCells);
        // On the CPU flash attention is off unless configured: llama.cpp's auto turns it on and long prompts prefill 3.5× slower.
        Assert.False(model.FlashAttentionSetting);
        Assert.Contains($"{model.Parallel} parallel sequences × context {model.ContextSize} = {model.KvCells} KV cells, flash attention off", server.Console.ToString());
    }

    [Fact]
    public async Task Three_candidates_work_out_of_the_box()
    {
        using var client = server.CreateClient();
        var (status, body) = await client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"candidateCount":3,"maxOutputTokens":8,"seed":3}}""");
        Assert.Equal(200, status);
        Assert.Equal([0, 1, 2], body!["candidates"]!.AsArray().Select(c => c!["index"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Four_concurrent_streams_are_decoded_together()
    {
        using var client = server.CreateClient();
        // Open the four connections first, so each stream's start is not a TCP handshake behind the others.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.PostAsync("/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":1}}""")));

        var clock = Stopwatch.StartNew();
        var streams = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => ReadStream(client, clock, seed: 5 + i)));

        // Overlap by order, not speed: one sequence at a time would put each stream's first text after the previous
        // stream's last event. Not every pair must overlap: on a loaded machine one request can reach the server after
        // another has already finished (a stream of this model takes ~0.1 s), but the others still run together.
        var ordered = streams.OrderBy(s => s.FirstText).ToArray();
        var overlapping = ordered.Skip(1).Where((s, i) => s.FirstText < ordered[..(i + 1)].Max(p => p.Last)).Count();
        Assert.True(overlapping >= 2,
            $"streams ran one after another: first texts at {string.Join(", ", streams.Select(s => s.FirstText))} ms, last events at {string.Join(", ", streams.Select(s => s.Last))} ms");
    }

    private static async Task<(double FirstText, double Last)> ReadStream(HttpClient client, Stopwatch clock, int seed)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Stream)
        {
            Content = Json.Body($$$"""{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":300,"seed":{{{seed}}}}}"""),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        double last = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var now = clock.Elapsed.TotalMilliseconds;
            var candidate = JsonNode.Parse(line["data: ".Length..])!["candidates"]![0]!;
            if (first is null && candidate["content"]?["parts"]?[0]?["text"] is not null) first = now;
            last = now;
        }
        Assert.NotNull(first);
        return (first!.Value, last);
    }
}
