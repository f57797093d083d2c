using Castor.Cli;
using Castor.Server;

namespace Castor.IntegrationTests.Hub;

/// <summary>
/// <c>castor pull</c>, <c>castor models</c> and the first run end to end through the real command line, against
/// <see cref="FakeHub"/> named by HF_ENDPOINT as Hugging Face's own tools read it.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class PullCommandTests : IAsyncLifetime
{
    private FakeHub _hub = null!;
    private readonly string _models = Directory.CreateTempSubdirectory("castor-pull-cli").FullName;
    private string? _endpoint;
    private static readonly byte[] Model = File.ReadAllBytes(TestModels.Stories260K);

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        // The short name's own repository and file names, serving the test model in their place.
        _hub.Add("ggml-org/gemma-3-4b-it-GGUF",
            ("gemma-3-4b-it-Q4_K_M.gguf", Model),
            ("gemma-3-4b-it-Q8_0.gguf", Model),
            ("mmproj-model-f16.gguf", "not a real projector"u8.ToArray()));
        _hub.Add("unsloth/gemma-3-1b-it-GGUF", ("gemma-3-1b-it-Q4_K_M.gguf", Model));
        _endpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT");
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _hub.Url.ToString());
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _endpoint);
        await _hub.DisposeAsync();
        try { Directory.Delete(_models, recursive: true); } catch (IOException) { }
    }

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var exit = await Program.Main(args);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Pull_by_short_name_prints_plain_progress_and_a_final_line_with_the_path_and_the_id()
    {
        var (exit, stdout, stderr) = await Run("pull", "gemma-3-4b-it", "--models", _models);

        Assert.True(exit == 0, stderr);
        var path = Path.Combine(_models, "gemma-3-4b-it", "gemma-3-4b-it-Q4_K_M.gguf");
        Assert.Equal(Model, File.ReadAllBytes(path));
        Assert.True(File.Exists(Path.Combine(_models, "gemma-3-4b-it", "mmproj-model-f16.gguf")));
        Assert.Contains("gemma-3-4b-it-Q4_K_M.gguf: downloaded and verified", stdout);
        var last = stdout.TrimEnd().Split('\n')[^1];
        Assert.Contains(path, last);
        Assert.Contains("model id 'gemma-3-4b-it'", last);
    }

    [Fact]
    public async Task Models_list_show_and_rm_report_and_remove_what_was_pulled()
    {
        Assert.Equal(0, (await Run("pull", "gemma-3-4b-it", "--models", _models)).Exit);

        var (listExit, list, _) = await Run("models", "list", "--models", _models);
        Assert.Equal(0, listExit);
        var row = list.Split('\n').Single(l => l.StartsWith("gemma-3-4b-it ", StringComparison.Ordinal));
        Assert.Contains("Q4_K_M", row);
        Assert.Contains("llama", row);
        Assert.Contains("mmproj-model-f16.gguf", row);

        var (showExit, show, _) = await Run("models", "show", "models/gemma-3-4b-it", "--models", _models);
        Assert.Equal(0, showExit);
        Assert.Contains("pulled from   ggml-org/gemma-3-4b-it-GGUF:Q4_K_M", show);
        Assert.Contains("general.architecture", show);
        Assert.Contains("llama.context_length", show);

        var (rmExit, removed, _) = await Run("models", "rm", "gemma-3-4b-it", "--models", _models);
        Assert.Equal(0, rmExit);
        Assert.Contains("freed", removed);
        Assert.False(Directory.Exists(Path.Combine(_models, "gemma-3-4b-it")));
        var (_, _, empty) = await Run("models", "list", "--models", _models);
        Assert.Contains("castor pull", empty);
    }

    [Fact]
    public async Task A_failed_pull_exits_non_zero_with_the_reason_on_stderr()
    {
        var (exit, _, stderr) = await Run("pull", "nobody/Missing-GGUF", "--models", _models);

        Assert.Equal(1, exit);
        Assert.Contains("404", stderr);
        Assert.Contains("nobody/Missing-GGUF", stderr);
    }

    [Fact]
    public async Task First_run_pulls_the_default_model_into_an_empty_folder_and_the_server_serves_it_under_its_Gemini_name()
    {
        var options = new CastorOptions();
        var output = new StringWriter();

        Assert.True(await FirstRunPull.RunAsync(options, noPull: false, _models, output, CancellationToken.None));
        Assert.Contains("pulling gemma-3-1b-it", output.ToString());
        Assert.Equal([("gemma-3-1b-it", Path.Combine(_models, "gemma-3-1b-it", "gemma-3-1b-it-Q4_K_M.gguf"))], Castor.Engine.Models.GgufDiscovery.Find([_models]));

        // Once a model is there, the next start pulls nothing.
        Assert.False(FirstRunPull.ShouldPull(options, noPull: false, _models));

        options.Urls = "http://127.0.0.1:0";
        options.Models = [_models];
        options.Data = Path.Combine(_models, "data");
        options.ApiKey = CastorServerFixture.ApiKey;
        options.BuiltinEmbeddingModel = false;
        await using var app = await CastorHost.BuildAsync(options);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(CastorHost.Addresses(app)[0]) };
        client.DefaultRequestHeaders.Add("x-goog-api-key", CastorServerFixture.ApiKey);
        var model = await client.GetStringAsync("/v1beta/models/gemma-3-1b-it");
        Assert.Contains("\"name\": \"models/gemma-3-1b-it\"", model.Replace("\":\"", "\": \""));
        await app.StopAsync();
    }

    [Fact]
    public async Task No_pull_and_AutoPull_false_leave_an_empty_folder_empty()
    {
        var output = new StringWriter();

        Assert.False(await FirstRunPull.RunAsync(new CastorOptions(), noPull: true, _models, output, CancellationToken.None));
        Assert.False(await FirstRunPull.RunAsync(new CastorOptions { AutoPull = false }, noPull: false, _models, output, CancellationToken.None));
        Assert.False(await FirstRunPull.RunAsync(new CastorOptions { Models = [_models] }, noPull: false, _models, output, CancellationToken.None));

        Assert.Equal("", output.ToString());
        Assert.Empty(_hub.CdnRequests);
    }

    [Fact]
    public async Task Without_a_network_the_first_run_says_so_in_one_line_with_the_command_to_run_later()
    {
        // A port nothing listens on: the connection is refused, as it is without a network.
        var options = new CastorOptions { Hub = { Url = "http://127.0.0.1:9" } };
        var output = new StringWriter();

        Assert.False(await FirstRunPull.RunAsync(options, noPull: false, _models, output, CancellationToken.None));

        var lines = output.ToString().TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length); // the announcement, then the one line about the network
        Assert.Contains("no network", lines[1]);
        Assert.Contains("castor pull gemma-3-1b-it", lines[1]);
    }
}
