using System.Security.Cryptography;
using Castor.Engine.Models;
using Castor.Hub;

namespace Castor.IntegrationTests.Hub;

/// <summary>
/// <c>castor pull</c>'s downloader against <see cref="FakeHub"/>, serving the test model under a Hugging Face repository
/// layout with several quantizations and a projector. Nothing here reaches the internet.
/// </summary>
public sealed class PullTests : IAsyncLifetime
{
    private const string Repository = "tester/Tiny-GGUF";
    private FakeHub _hub = null!;
    private FakeRepository _repo = null!;
    private readonly string _models = Directory.CreateTempSubdirectory("castor-pull").FullName;
    private static readonly byte[] Model = File.ReadAllBytes(TestModels.Stories260K);
    // A different payload per file, so a test can tell which one landed.
    private static readonly byte[] Q8 = [.. Model, .. "q8"u8];
    // A real (synthetic) projector: a model pulled into a running server's folder is paired with it, so it must load.
    private static readonly byte[] Projector = File.ReadAllBytes(Media.TestMedia.Projector("mlp"));

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _repo = _hub.Add(Repository,
            ("README.md", "# tiny"u8.ToArray()),
            ("Tiny-Q4_K_S.gguf", [.. Model, .. "s"u8]),
            ("Tiny-Q4_K_M.gguf", Model),
            ("Tiny-Q8_0.gguf", Q8),
            ("mmproj-Tiny-F16.gguf", Projector),
            ("mmproj-Tiny-F32.gguf", [.. Projector, .. Projector]));
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        try { Directory.Delete(_models, recursive: true); } catch (IOException) { }
    }

    private ModelPuller Puller(string? token = null) => new(new HubClient(_hub.Url, token), _models) { RetryDelay = TimeSpan.Zero };

    [Fact]
    public async Task Without_a_quantization_Q4_K_M_and_the_F16_projector_are_pulled_into_a_folder_named_by_the_id()
    {
        var pulled = await Puller().PullAsync(ModelSource.Parse($"hf.co/{Repository}"), new RecordingProgress());

        Assert.Equal("tiny", pulled.Id);
        Assert.Equal(Path.Combine(_models, "tiny", "Tiny-Q4_K_M.gguf"), pulled.ModelPath);
        Assert.Equal(Path.Combine(_models, "tiny", "mmproj-Tiny-F16.gguf"), pulled.ProjectorPath);
        Assert.Equal(Model, File.ReadAllBytes(pulled.ModelPath));
        Assert.Equal(Projector, File.ReadAllBytes(pulled.ProjectorPath!));
        Assert.Equal("Q4_K_M", pulled.Quantization);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_models, "tiny"), "*" + ModelPuller.PartialSuffix));
        Assert.Equal([("tiny", pulled.ModelPath)], GgufDiscovery.Find([_models]));
        Assert.Equal($"{Repository}:Q4_K_M", PullManifest.Read(pulled.Folder)!.Source);
    }

    [Fact]
    public async Task A_named_quantization_picks_its_file_and_gets_its_own_id()
    {
        var pulled = await Puller().PullAsync(ModelSource.Parse($"{Repository}:Q8_0"), new RecordingProgress());

        Assert.Equal("tiny-q8_0", pulled.Id);
        Assert.Equal("Tiny-Q8_0.gguf", Path.GetFileName(pulled.ModelPath));
        Assert.Equal(Q8, File.ReadAllBytes(pulled.ModelPath));
    }

    [Fact]
    public async Task A_quantization_the_repository_lacks_is_refused_with_the_ones_it_has()
    {
        var error = await Assert.ThrowsAsync<PullException>(() => Puller().PullAsync(ModelSource.Parse($"{Repository}:Q2_K"), new RecordingProgress()));

        Assert.Equal(PullFailure.NoMatchingFile, error.Failure);
        Assert.Contains("Q4_K_M", error.Message);
        Assert.Contains("Q8_0", error.Message);
    }

    [Fact]
    public async Task A_dropped_connection_is_resumed_with_Range_from_where_it_stopped()
    {
        _repo.DropAt("Tiny-Q4_K_M.gguf", Model.Length / 3, Model.Length * 2 / 3);

        var pulled = await Puller().PullAsync(ModelSource.Parse(Repository), new RecordingProgress());

        Assert.Equal(Model, File.ReadAllBytes(pulled.ModelPath));
        // Each resume asks for the rest from where the bytes on disk end: at most the drop point (an aborted connection
        // loses what was in flight), never from the start again.
        var requests = _hub.CdnRequests.Where(r => r.Path == "Tiny-Q4_K_M.gguf").Select(r => r.Range).ToList();
        Assert.Equal(3, requests.Count);
        Assert.Null(requests[0]);
        var offsets = requests.Skip(1).Select(r => long.Parse(r!["bytes=".Length..^1])).ToList();
        Assert.InRange(offsets[0], 1, Model.Length / 3);
        Assert.InRange(offsets[1], offsets[0] + 1, Model.Length * 2 / 3);
    }

    [Fact]
    public async Task An_interrupted_pull_leaves_only_a_partial_file_and_the_next_pull_resumes_it()
    {
        _repo.DropAt("Tiny-Q4_K_M.gguf", Model.Length / 2);
        var giveUp = new ModelPuller(new HubClient(_hub.Url, null), _models) { RetryDelay = TimeSpan.Zero, MaxRetries = 0 };

        var error = await Assert.ThrowsAsync<PullException>(() => giveUp.PullAsync(ModelSource.Parse(Repository), new RecordingProgress()));

        Assert.Equal(PullFailure.Unreachable, error.Failure);
        Assert.Contains("run the same command again", error.Message);
        var folder = Path.Combine(_models, "tiny");
        Assert.False(File.Exists(Path.Combine(folder, "Tiny-Q4_K_M.gguf")));
        var kept = new FileInfo(Path.Combine(folder, "Tiny-Q4_K_M.gguf" + ModelPuller.PartialSuffix)).Length;
        Assert.InRange(kept, 1, Model.Length / 2);
        Assert.Empty(GgufDiscovery.Find([_models]));

        var progress = new RecordingProgress();
        var pulled = await Puller().PullAsync(ModelSource.Parse(Repository), progress);

        Assert.Equal(Model, File.ReadAllBytes(pulled.ModelPath));
        Assert.Equal($"bytes={kept}-", _hub.CdnRequests.Last(r => r.Path == "Tiny-Q4_K_M.gguf").Range);
        Assert.Contains($"started Tiny-Q4_K_M.gguf at {kept}", progress.Events);
    }

    [Fact]
    public async Task A_file_whose_SHA256_differs_from_the_listing_is_discarded_and_named()
    {
        _repo.ListedSha256["Tiny-Q4_K_M.gguf"] = new string('a', 64);

        var error = await Assert.ThrowsAsync<PullException>(() => Puller().PullAsync(ModelSource.Parse(Repository), new RecordingProgress()));

        Assert.Equal(PullFailure.IntegrityMismatch, error.Failure);
        Assert.Contains("Tiny-Q4_K_M.gguf", error.Message);
        Assert.Contains(new string('a', 64), error.Message);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Model)), error.Message);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_models, "tiny"), "Tiny-Q4_K_M.gguf*"));
    }

    [Fact]
    public async Task An_unknown_repository_is_a_404_that_names_it()
    {
        var error = await Assert.ThrowsAsync<PullException>(() => Puller().PullAsync(ModelSource.Parse("nobody/Missing-GGUF"), new RecordingProgress()));

        Assert.Equal(PullFailure.NotFound, error.Failure);
        Assert.Contains("nobody/Missing-GGUF", error.Message);
        Assert.Contains("404", error.Message);
    }

    [Fact]
    public async Task A_gated_repository_without_a_token_says_to_set_HF_TOKEN_and_with_one_pulls_without_sending_it_to_the_CDN()
    {
        _repo.Gated = true;

        var error = await Assert.ThrowsAsync<PullException>(() => Puller().PullAsync(ModelSource.Parse(Repository), new RecordingProgress()));
        Assert.Equal(PullFailure.Unauthorized, error.Failure);
        Assert.Contains("401", error.Message);
        Assert.Contains("HF_TOKEN", error.Message);

        var pulled = await Puller(FakeHub.Token).PullAsync(ModelSource.Parse(Repository), new RecordingProgress());
        Assert.Equal(Model, File.ReadAllBytes(pulled.ModelPath));
        Assert.Empty(_hub.CdnAuthorizations);
    }

    [Fact]
    public async Task A_full_disk_stops_the_pull_with_a_message_and_keeps_what_was_written_for_a_resume()
    {
        var puller = new ModelPuller(new HubClient(_hub.Url, null), _models)
        {
            RetryDelay = TimeSpan.Zero,
            OpenPartial = path => new FullDiskStream(new FileStream(path, FileMode.Append, FileAccess.Write), spaceLeft: 1000),
        };

        var error = await Assert.ThrowsAsync<PullException>(() => puller.PullAsync(ModelSource.Parse(Repository), new RecordingProgress()));

        Assert.Equal(PullFailure.DiskFull, error.Failure);
        Assert.Contains("full", error.Message);
        Assert.Contains("castor models rm", error.Message);
        Assert.Empty(GgufDiscovery.Find([_models]));
    }

    [Fact]
    public async Task Too_little_free_space_is_refused_before_downloading()
    {
        var puller = new ModelPuller(new HubClient(_hub.Url, null), _models) { FreeSpace = _ => 1000 };

        var error = await Assert.ThrowsAsync<PullException>(() => puller.PullAsync(ModelSource.Parse(Repository), new RecordingProgress()));

        Assert.Equal(PullFailure.DiskFull, error.Failure);
        Assert.Empty(_hub.CdnRequests);
    }

    [Fact]
    public async Task A_second_pull_of_the_same_model_waits_for_the_first_and_downloads_nothing_again()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _repo.Gates["Tiny-Q4_K_M.gguf"] = release;
        _repo.FirstRequest["Tiny-Q4_K_M.gguf"] = requested;

        var first = Puller().PullAsync(ModelSource.Parse(Repository), new RecordingProgress());
        await requested.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var secondProgress = new RecordingProgress();
        var second = Puller().PullAsync(ModelSource.Parse(Repository), secondProgress);
        await secondProgress.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(30));
        release.SetResult();

        var (a, b) = (await first, await second);
        Assert.Equal(a.ModelPath, b.ModelPath);
        Assert.Equal(Model, File.ReadAllBytes(b.ModelPath));
        Assert.Equal(1, _hub.BodyRequestsFor("Tiny-Q4_K_M.gguf"));
        Assert.Equal(0, b.DownloadedBytes);
        Assert.Contains("completed Tiny-Q4_K_M.gguf present", secondProgress.Events);
    }

    [Fact]
    public async Task A_split_model_downloads_every_part_and_is_served_as_one_model()
    {
        _hub.Add("tester/Big-GGUF",
            ("Q4_K_M/Big-Q4_K_M-00001-of-00003.gguf", Model[..1000]),
            ("Q4_K_M/Big-Q4_K_M-00002-of-00003.gguf", Model[1000..2000]),
            ("Q4_K_M/Big-Q4_K_M-00003-of-00003.gguf", Model[2000..]),
            ("Q8_0/Big-Q8_0-00001-of-00002.gguf", Model[..10]));

        var pulled = await Puller().PullAsync(ModelSource.Parse("tester/Big-GGUF"), new RecordingProgress());

        Assert.Equal("big", pulled.Id);
        Assert.Equal("Big-Q4_K_M-00001-of-00003.gguf", Path.GetFileName(pulled.ModelPath));
        var parts = Enumerable.Range(1, 3).Select(i => File.ReadAllBytes(Path.Combine(pulled.Folder, $"Big-Q4_K_M-{i:00000}-of-00003.gguf")));
        Assert.Equal(Model, parts.SelectMany(p => p).ToArray());
        Assert.Equal([("big", pulled.ModelPath)], GgufDiscovery.Find([_models]));
    }

    [Fact]
    public async Task One_named_file_is_pulled_alone_under_its_own_name()
    {
        var pulled = await Puller().PullAsync(ModelSource.Parse($"hf.co/{Repository}/Tiny-Q8_0.gguf"), new RecordingProgress());

        Assert.Equal("tiny-q8_0", pulled.Id);
        Assert.Equal(Q8, File.ReadAllBytes(pulled.ModelPath));
    }

    [Fact]
    public async Task Pulling_again_finds_the_files_in_place_and_downloads_nothing()
    {
        await Puller().PullAsync(ModelSource.Parse(Repository), new RecordingProgress());
        var before = _hub.CdnRequests.Count;

        var again = await Puller().PullAsync(ModelSource.Parse(Repository), new RecordingProgress());

        Assert.Equal(before, _hub.CdnRequests.Count);
        Assert.Equal(0, again.DownloadedBytes);
    }

    [Fact]
    public async Task A_running_server_serves_a_model_pulled_into_its_folder_without_a_restart()
    {
        var options = new Castor.Server.CastorOptions
        {
            Urls = "http://127.0.0.1:0",
            Models = [_models],
            Data = Path.Combine(_models, ".data"),
            ApiKey = CastorServerFixture.ApiKey,
            BuiltinEmbeddingModel = false,
            Threads = 2,
        };
        await using var app = await Castor.Server.CastorHost.BuildAsync(options);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(Castor.Server.CastorHost.Addresses(app)[0]) };
        client.DefaultRequestHeaders.Add("x-goog-api-key", CastorServerFixture.ApiKey);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync("/v1beta/models/tiny")).StatusCode);

        await Puller().PullAsync(ModelSource.Parse(Repository), new RecordingProgress());

        // The server looks every few seconds; wait for the model to be listed rather than for a fixed time.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetAsync("/v1beta/models/tiny")).StatusCode != System.Net.HttpStatusCode.OK && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        var answer = await client.PostAsync("/v1beta/models/tiny:generateContent", new StringContent(
            """{"contents":[{"parts":[{"text":"Once upon a time"}]}],"generationConfig":{"maxOutputTokens":4}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
        await app.StopAsync();
    }

    /// <summary>A file stream on a disk with <c>spaceLeft</c> bytes free: past that, writes fail with ENOSPC as the OS reports it.</summary>
    private sealed class FullDiskStream(FileStream inner, long spaceLeft) : Stream
    {
        private long _left = spaceLeft;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (count > _left)
            {
                inner.Write(buffer, offset, (int)_left);
                _left = 0;
                throw new IOException("No space left on device", OperatingSystem.IsWindows() ? unchecked((int)0x80070070) : 28);
            }
            inner.Write(buffer, offset, count);
            _left -= count;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.ToArray(), 0, buffer.Length);
            return ValueTask.CompletedTask;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
