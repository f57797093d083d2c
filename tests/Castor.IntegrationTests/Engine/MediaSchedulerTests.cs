using System.Text;
using Castor.Engine.Media;
using Castor.Engine.Models;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Castor.IntegrationTests.Media;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Engine;

/// <summary>
/// The test model paired with synthetic projectors (random weights, written by the tests): an <c>mlp</c> vision model
/// with four parallel sequences, a <c>gemma3</c> vision model (non-causal image attention) and a <c>qwen2a</c> audio
/// model. Flash attention is on, so a sequence's output does not depend on what shares its batches.
/// </summary>
public sealed class MediaModelsFixture : IDisposable
{
    public MediaModelsFixture() => NativeLogging.RouteTo(NullLogger.Instance);

    public LlamaModel Vision { get; } = Load("mlp", parallel: 4, context: 512);
    public LlamaModel Gemma { get; } = Load("gemma3", parallel: 2, context: 512);
    public LlamaModel Audio { get; } = Load("qwen2a", parallel: 2, context: 2048);

    private static LlamaModel Load(string projector, int parallel, int context) => LlamaModel.Load(
        new ModelSpec($"stories-{projector}", TestModels.Stories260K, Projector: TestMedia.Projector(projector)),
        new EngineOptions { Threads = 2, Parallel = parallel, ContextSize = context, MaxQueue = 4, FlashAttention = FlashAttentionMode.On },
        NullLogger.Instance);

    public void Dispose()
    {
        Vision.Dispose();
        Gemma.Dispose();
        Audio.Dispose();
    }
}

public sealed class MediaSchedulerTests(MediaModelsFixture fixture) : IClassFixture<MediaModelsFixture>
{
    private static EnginePrompt Prompt(LlamaModel model, string before, DecodedMedia? media, string after = "") =>
        model.TokenizeMediaPrompt([new ChatMessage("user", before + after,
            media is null ? null : [new PromptMedia(before.Length, media)])]);

    private static EngineRequest Request(EnginePrompt prompt, uint seed, int maxTokens = 24) =>
        new(prompt, new SamplingParameters(0.9f, 0.95f, 40, seed), maxTokens, []);

    private sealed record Outcome(string Text, int PromptTokens, int Reused);

    private static async Task<Outcome> Run(LlamaModel model, EngineRequest request, CancellationToken ct = default)
    {
        var text = new StringBuilder();
        int prompt = 0, reused = 0;
        await foreach (var e in model.Generate(request, ct).ReadAllAsync(CancellationToken.None))
        {
            switch (e)
            {
                case TextGenerated t: text.Append(t.Text); break;
                case PromptProcessed p: (prompt, reused) = (p.PromptTokens, p.ReusedTokens); break;
                case GenerationFailed f: throw new Xunit.Sdk.XunitException(f.Message);
            }
        }
        return new Outcome(text.ToString(), prompt, reused);
    }

    [Fact]
    public void The_projectors_report_what_they_take()
    {
        Assert.True(fixture.Vision.Projector is { SupportsVision: true, SupportsAudio: false, NonCausal: false, ProjectorType: "mlp" });
        Assert.True(fixture.Gemma.Projector is { SupportsVision: true, NonCausal: true, ProjectorType: "gemma3" });
        Assert.True(fixture.Audio.Projector is { SupportsVision: false, SupportsAudio: true, AudioSampleRate: 16000 });
    }

    [Fact]
    public void Tokens_are_counted_per_modality()
    {
        var image = Prompt(fixture.Vision, "What is in", TestMedia.Image(1), " the picture?");
        // mlp: (32 / 8)² patches, one token each.
        Assert.Equal(16, image.ImageTokens);
        Assert.Equal(0, image.AudioTokens);
        Assert.True(image.TextTokens > 0);
        Assert.Equal(image.TextTokens + 16, image.Length);

        // gemma3 pools 4×4 patches 2×2, and wraps the image in its start/end text.
        var gemma = Prompt(fixture.Gemma, "Look:", TestMedia.Image(1));
        Assert.Equal(4, gemma.ImageTokens);

        var audio = Prompt(fixture.Audio, "Listen:", TestMedia.Audio());
        Assert.Equal(0, audio.ImageTokens);
        Assert.True(audio.AudioTokens > 0);
        Assert.Equal(audio.TextTokens + audio.AudioTokens, audio.Length);
    }

    [Fact]
    public async Task The_same_image_and_seed_give_the_same_text_and_another_image_gives_other_text()
    {
        var first = await Run(fixture.Vision, Request(Prompt(fixture.Vision, "Once upon a time ", TestMedia.Image(7), " there was"), 42));
        var again = await Run(fixture.Vision, Request(Prompt(fixture.Vision, "Once upon a time ", TestMedia.Image(7), " there was"), 42));
        var other = await Run(fixture.Vision, Request(Prompt(fixture.Vision, "Once upon a time ", TestMedia.Image(8), " there was"), 42));

        Assert.NotEmpty(first.Text);
        Assert.Equal(first.Text, again.Text);
        Assert.NotEqual(first.Text, other.Text);
    }

    [Fact]
    public async Task A_follow_up_about_the_same_image_reuses_its_encoding()
    {
        var image = TestMedia.Image(21);
        var question = Prompt(fixture.Vision, "Tell me about ", image, " this picture.");
        var first = await Run(fixture.Vision, Request(question, 5));
        var followUp = Prompt(fixture.Vision, "Tell me about ", image, " this picture. And the colours?");
        var second = await Run(fixture.Vision, Request(followUp, 5));

        Assert.Equal(question.TokenCount, first.PromptTokens);
        // Everything up to the end of the shared text is resident: the image among it.
        var imageEnd = question.Chunks.TakeWhile(c => c is not MediaPlaceholder).Sum(c => c.Length) + 16;
        Assert.True(second.Reused > imageEnd, $"reused {second.Reused}, the image ends at {imageEnd}");
    }

    [Fact]
    public async Task Candidates_fork_after_the_image()
    {
        var prompt = Prompt(fixture.Vision, "Once upon a time ", TestMedia.Image(12), " there was");
        var texts = new string[2];
        var builders = new[] { new StringBuilder(), new StringBuilder() };
        await foreach (var e in fixture.Vision.Generate(Request(prompt, 50) with { Candidates = 2 }, CancellationToken.None).ReadAllAsync())
        {
            if (e is TextGenerated t) builders[t.Candidate].Append(t.Text);
            if (e is GenerationFailed f) throw new Xunit.Sdk.XunitException(f.Message);
        }
        for (var i = 0; i < 2; i++) texts[i] = builders[i].ToString();
        // Candidate i samples with seed 50 + i: each matches a single request with that seed.
        var second = await Run(fixture.Vision, Request(prompt, 51));
        Assert.NotEmpty(texts[0]);
        Assert.Equal(second.Text, texts[1]);
    }

    [Fact]
    public async Task A_prompt_may_end_with_an_image()
    {
        var outcome = await Run(fixture.Vision, Request(Prompt(fixture.Vision, "Look: ", TestMedia.Image(3)), 9));
        Assert.NotEmpty(outcome.Text);
    }

    [Fact]
    public async Task Text_streams_alongside_image_requests_read_as_when_alone()
    {
        var text = Request(Prompt(fixture.Vision, "The little dog", null), 77, maxTokens: 40);
        var alone = await Run(fixture.Vision, text);

        var images = Enumerable.Range(0, 3).Select(i =>
            Run(fixture.Vision, Request(Prompt(fixture.Vision, "Picture ", TestMedia.Image(100 + i), " shows"), (uint)i))).ToList();
        var together = await Run(fixture.Vision, text);
        await Task.WhenAll(images);

        Assert.Equal(alone.Text, together.Text);
    }

    [Fact]
    public async Task Gemma3_images_decode_with_their_non_causal_step()
    {
        var a = await Run(fixture.Gemma, Request(Prompt(fixture.Gemma, "Once ", TestMedia.Image(1), " upon"), 3));
        var b = await Run(fixture.Gemma, Request(Prompt(fixture.Gemma, "Once ", TestMedia.Image(1), " upon"), 3));
        Assert.NotEmpty(a.Text);
        Assert.Equal(a.Text, b.Text);
    }

    [Fact]
    public async Task Audio_is_encoded_into_the_sequence()
    {
        var outcome = await Run(fixture.Audio, Request(Prompt(fixture.Audio, "Listen: ", TestMedia.Audio(), " and"), 4, maxTokens: 8));
        Assert.NotEmpty(outcome.Text);
    }

    [Fact]
    public void Media_a_model_cannot_take_are_refused_before_the_scheduler()
    {
        Assert.Throws<ArgumentException>(() => Prompt(fixture.Vision, "Hear ", TestMedia.Audio()));
        Assert.Throws<ArgumentException>(() => Prompt(fixture.Audio, "See ", TestMedia.Image(1)));
        var audio = TestMedia.Audio() with { SampleRate = 8000 };
        Assert.Throws<ArgumentException>(() => Prompt(fixture.Audio, "Hear ", audio));
    }

    [Fact]
    public async Task Cancelling_while_media_wait_or_encode_frees_the_sequence()
    {
        using var cts = new CancellationTokenSource();
        var reader = fixture.Audio.Generate(Request(Prompt(fixture.Audio, "Listen: ", TestMedia.Audio(2)), 1, maxTokens: 200), cts.Token);
        cts.CancelAfter(TimeSpan.FromMilliseconds(100));
        // Read to the end: a channel's Completion waits for its items to be read too (GenerationStarted is one).
        while (await reader.WaitToReadAsync()) while (reader.TryRead(out _)) { }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (fixture.Audio.Scheduler.ActiveSequences > 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5);
        Assert.Equal(0, fixture.Audio.Scheduler.ActiveSequences);
        var after = await Run(fixture.Audio, Request(Prompt(fixture.Audio, "Once upon a time", null), 2, maxTokens: 4));
        Assert.NotEmpty(after.Text);
    }
}
