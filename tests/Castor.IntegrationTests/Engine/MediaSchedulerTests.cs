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
/// model, and a synthetic Qwen2-VL pair (M-RoPE, dynamic resolution). Flash attention is on, so a sequence's output does not depend on what shares its batches.
/// </summary>
public sealed class MediaModelsFixture : IDisposable
{
    public MediaModelsFixture() => NativeLogging.RouteTo(NullLogger.Instance);

    public LlamaModel Vision { get; } = Load("mlp", parallel: 4, context: 512);
    public LlamaModel Gemma { get; } = Load("gemma3", parallel: 2, context: 512);
    public LlamaModel Audio { get; } = Load("qwen2a", parallel: 2, context: 2048);

    /// <summary>A synthetic Qwen2-VL pair: an M-RoPE text model and a dynamic-resolution projector.</summary>
    public LlamaModel Mrope { get; } = LlamaModel.Load(
        new ModelSpec("qwen2vl-synthetic", TestMedia.Qwen2VLModel(), Projector: TestMedia.Projector("qwen2vl_merger")),
        new EngineOptions { Threads = 2, Parallel = 2, ContextSize = 1024, MaxQueue = 4, FlashAttention = FlashAttentionMode.On },
        NullLogger.Instance);

    private static LlamaModel Load(string projector, int parallel, int context) => LlamaModel.Load(
        new ModelSpec($"stories-{projector}", TestModels.Stories260K, Projector: TestMedia.Projector(projector)),
        new EngineOptions { Threads = 2, Parallel = parallel, ContextSize = context, MaxQueue = 4, FlashAttention = FlashAttentionMode.On },
        NullLogger.Instance);

    public void Dispose()
    {
        Vision.Dispose();
        Gemma.Dispose();
        Audio.Dispose();
        Mrope.Dispose();
    }
}

public sealed class MediaSchedulerTests(MediaModelsFixture fixture) : IClassFixture<MediaModelsFixture>
{
    private static EnginePrompt Prompt(LlamaModel model, string before, DecodedMedia? media, string after = "") =>
        model.TokenizeMediaPrompt([new ChatMessage("user", before + after,
            media is null ? null : [new PromptMedia(before.Length, media)])]);

    private static EngineRequest Request(EnginePrompt prompt, uint seed, int maxTokens = 24, string partition = "") =>
        new(prompt, new SamplingParameters(0.9f, 0.95f, 40, seed), maxTokens, [], PrefixPartition: partition);

    /// <summary>A conversation whose first user turn opens with <paramref name="image"/>, after a system instruction (so the transcript form holds from the first turn on).</summary>
    private static EnginePrompt Conversation(LlamaModel model, DecodedMedia image, params string[] turns) =>
        model.TokenizeMediaPrompt([new ChatMessage("system", "You tell stories."), .. turns.Select((text, i) =>
            new ChatMessage(i % 2 == 0 ? "user" : "assistant", text, i == 0 ? [new PromptMedia(0, image)] : null))]);

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

    [Fact]
    public async Task A_follow_up_that_finds_the_image_resident_does_not_preprocess_it()
    {
        var projector = fixture.Vision.Projector!;
        var image = TestMedia.Image(71);
        var before = projector.Preparations;
        var first = await Run(fixture.Vision, Request(Prompt(fixture.Vision, "Show me ", image, " please."), 8));
        Assert.Equal(before + 1, projector.Preparations);

        var followUp = Prompt(fixture.Vision, "Show me ", image, " please. And again?");
        var placeholder = followUp.Chunks.OfType<MediaPlaceholder>().Single();
        Assert.False(placeholder.Input!.IsPrepared);
        var second = await Run(fixture.Vision, Request(followUp, 8));

        // The image was laid out from the cache and its positions were resident: mtmd never saw its pixels again.
        Assert.Equal(before + 1, projector.Preparations);
        Assert.False(placeholder.Input.IsPrepared);
        Assert.True(second.Reused > first.PromptTokens - 4, $"reused {second.Reused} of the first prompt's {first.PromptTokens}");
    }

    [Fact]
    public async Task An_image_evicted_between_count_and_use_is_prepared_when_evaluated()
    {
        var projector = fixture.Vision.Projector!;
        var image = TestMedia.Image(72);
        var before = projector.Preparations;
        var first = await Run(fixture.Vision, Request(Prompt(fixture.Vision, "A tale of ", image, " two cities"), 13, partition: "evicted"));
        // Counted while the image is resident: laid out from the cache, nothing prepared.
        var counted = Prompt(fixture.Vision, "A tale of ", image, " two cities");
        Assert.Equal(before + 1, projector.Preparations);
        Assert.False(counted.Chunks.OfType<MediaPlaceholder>().Single().Input!.IsPrepared);

        // Then its positions are dropped before the request runs.
        Assert.True(await fixture.Vision.Scheduler.ReleaseIdlePrefixesAsync("evicted") > 0);
        var again = await Run(fixture.Vision, Request(counted, 13, partition: "evicted"));

        Assert.Equal(before + 2, projector.Preparations);
        Assert.Equal(0, again.Reused);
        Assert.NotEmpty(again.Text);
        Assert.Equal(first.Text, again.Text);
    }

    [Fact]
    public async Task A_prompt_that_ends_with_an_image_and_is_resident_whole_decodes_the_image_again()
    {
        var prompt = Prompt(fixture.Vision, "The end: ", TestMedia.Image(76));
        var image = Assert.IsType<MediaPlaceholder>(prompt.Chunks[^1]);
        var first = await Run(fixture.Vision, Request(prompt, 17, partition: "ends-with-image"));
        // All of it is resident now; its last position's logits are needed again, and an image is never cut: the
        // reused prefix stops where the image starts, and the image's last slice gives the logits.
        var again = await Run(fixture.Vision, Request(prompt, 17, partition: "ends-with-image"));

        Assert.NotEmpty(first.Text);
        Assert.Equal(prompt.Length - image.Positions, again.Reused);
        Assert.Equal(first.Text, again.Text);
    }

    [Fact]
    public void Two_images_alike_in_all_but_their_pixels_are_laid_out_apart()
    {
        var projector = fixture.Vision.Projector!;
        var a = TestMedia.Image(73);
        var b = TestMedia.Image(74);
        var before = projector.Preparations;
        var first = Prompt(fixture.Vision, "Compare ", a, " with that.");
        var second = Prompt(fixture.Vision, "Compare ", b, " with that.");

        Assert.Equal(before + 2, projector.Preparations);
        Assert.NotEqual(first.Chunks.OfType<MediaPlaceholder>().Single().Hash, second.Chunks.OfType<MediaPlaceholder>().Single().Hash);
    }

    [Fact]
    public async Task A_layout_from_the_cache_reads_as_mtmd_lays_out_the_whole_prompt()
    {
        // Gemma 3 puts <start_of_image>/<end_of_image> around its image: the cached layout keeps them in place.
        var image = TestMedia.Image(75);
        var fresh = Prompt(fixture.Gemma, "Before ", image, " after.");
        var cached = Prompt(fixture.Gemma, "Before ", image, " after.");
        Assert.Equal(Describe(fresh), Describe(cached));
        var a = await Run(fixture.Gemma, Request(fresh, 21, partition: "fresh"));
        var b = await Run(fixture.Gemma, Request(cached, 21, partition: "cached"));
        Assert.Equal(a.Text, b.Text);

        static string Describe(EnginePrompt prompt) => string.Join(" | ", prompt.Chunks.Select(c => c switch
        {
            TokenRun run => string.Join(",", run.Tokens),
            MediaPlaceholder media => $"media {media.Hash:x} {media.Tokens}/{media.Positions}",
            _ => "?",
        }));
    }

    [Fact]
    public async Task Mrope_images_advance_the_position_by_the_projector_count_and_follow_ups_continue_there()
    {
        var model = fixture.Mrope;
        Assert.True(model.Projector is { UsesMRope: true, HasDynamicResolution: true, ProjectorType: "qwen2vl_merger" });
        var image = TestMedia.Image(81, 64, 48);
        var question = Conversation(model, image, "Look at this and tell me a story.");
        var media = question.Chunks.OfType<MediaPlaceholder>().Single();
        // 64×48 pixels: 8×6 tokens of 8×8 pixels, over max(8, 6) positions.
        Assert.Equal((48, 8), (media.Tokens, media.Positions));
        Assert.Equal(question.TextTokens + 8, question.Length);

        var first = await Run(model, Request(question, 3));
        var followUp = Conversation(model, image, "Look at this and tell me a story.", first.Text, "What happens next?");
        var second = await Run(model, Request(followUp, 3));
        var secondFollowUp = Conversation(model, image, "Look at this and tell me a story.", first.Text, "What happens next?", second.Text, "And then?");
        var third = await Run(model, Request(secondFollowUp, 3));
        // The same prompt computed cold in a partition of its own: every position decoded afresh.
        var cold = await Run(model, Request(secondFollowUp, 3, partition: "cold"));

        var imageEnd = question.Chunks.TakeWhile(c => c is not MediaPlaceholder).Sum(c => c.Length) + 8;
        Assert.NotEmpty(first.Text);
        Assert.True(second.Reused > imageEnd, $"reused {second.Reused} positions; the image ends at {imageEnd}");
        // The second follow-up reuses text the first follow-up decoded after the image: at positions counted from its 8.
        Assert.True(third.Reused > second.Reused + 4, $"reused {third.Reused} positions, the first follow-up {second.Reused}");
        Assert.Equal(0, cold.Reused);
        Assert.Equal(cold.Text, third.Text);
    }

    [Fact]
    public void Mrope_prompts_whose_image_tokens_overflow_the_window_are_refused_though_their_positions_fit()
    {
        var model = fixture.Mrope;
        // 320×240 pixels: 40×30 = 1,200 tokens over 40 positions, in a window of 1,024 cells.
        var prompt = Conversation(model, TestMedia.Image(82, 320, 240), "Describe it.");
        Assert.True(prompt.Length < 1024 && prompt.TokenCount > 1024, $"{prompt.Length} positions, {prompt.TokenCount} tokens");
        Assert.Throws<ArgumentException>(() => model.Generate(Request(prompt, 1), CancellationToken.None));
    }
}
