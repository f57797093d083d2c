using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Castor.Engine.Models;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Engine;

/// <summary>
/// A model with four parallel sequences, driven directly through the engine (no HTTP). Flash attention is on: its
/// kernel sums each sequence's attention the same way whatever else shares the batch, so interleaving is bit-exact
/// (without it, the masked soft-max over the whole batch changes the last bits of a logit with the batch's shape).
/// </summary>
public sealed class SchedulerModelFixture : IDisposable
{
    public SchedulerModelFixture() => NativeLogging.RouteTo(NullLogger.Instance);

    public LlamaModel Model { get; } = LlamaModel.Load(
        new ModelSpec("stories260k", TestModels.Stories260K),
        new EngineOptions { Threads = 2, Parallel = 4, ContextSize = 1024, MaxQueue = 2, FlashAttention = FlashAttentionMode.On },
        NullLogger.Instance);

    public void Dispose() => Model.Dispose();
}

public sealed class SchedulerTests(SchedulerModelFixture fixture) : IClassFixture<SchedulerModelFixture>
{
    private readonly LlamaModel _model = fixture.Model;

    private int[] Prompt(string text) => _model.TokenizePrompt([new ChatMessage("user", text)]);

    private EngineRequest Request(string text, uint seed, int maxTokens = 40, int candidates = 1) =>
        new(Prompt(text), new SamplingParameters(0.9f, 0.95f, 40, seed), maxTokens, [], candidates);

    private sealed record Outcome(string[] Texts, FinishCause[] Causes, int Reused);

    private static async Task<Outcome> Collect(ChannelReader<EngineEvent> reader, int candidates = 1)
    {
        var texts = Enumerable.Range(0, candidates).Select(_ => new StringBuilder()).ToArray();
        var causes = new FinishCause[candidates];
        var reused = 0;
        await foreach (var e in reader.ReadAllAsync())
        {
            switch (e)
            {
                case TextGenerated t: texts[t.Candidate].Append(t.Text); break;
                case GenerationFinished f: causes[f.Candidate] = f.Cause; break;
                case PromptProcessed p: reused = p.ReusedTokens; break;
                case GenerationFailed failed: throw new Xunit.Sdk.XunitException(failed.Message);
            }
        }
        return new Outcome(texts.Select(t => t.ToString()).ToArray(), causes, reused);
    }

    private Task<Outcome> Run(EngineRequest request, CancellationToken ct = default) =>
        Collect(_model.Generate(request, ct), request.Candidates);

    [Fact]
    public async Task Interleaved_requests_produce_the_same_text_as_when_run_alone()
    {
        string[] prompts = ["Once upon a time", "The little dog", "Lily wanted to", "Tom and Sam went"];
        var alone = new List<string>();
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
            alone.Add((await Run(Request(p, (uint)(100 + i)))).Texts[0]);

        var together = await Task.WhenAll(prompts.Select((p, i) => Run(Request(p, (uint)(100 + i)))));

        Assert.Equal(alone, together.Select(o => o.Texts[0]));
    }

    [Fact]
    public async Task Several_candidates_fork_one_prompt_and_each_matches_a_single_request_with_its_seed()
    {
        var forked = await Run(Request("Once upon a time, in a big forest", 500, maxTokens: 30, candidates: 3));

        Assert.Equal(3, forked.Texts.Length);
        Assert.Equal(3, forked.Texts.Distinct().Count());
        for (var i = 0; i < 3; i++)
        {
            var single = await Run(Request("Once upon a time, in a big forest", (uint)(500 + i), maxTokens: 30));
            Assert.Equal(single.Texts[0], forked.Texts[i]);
        }
    }

    [Fact]
    public async Task A_shared_prefix_is_reused_and_reported()
    {
        var prefix = string.Concat(Enumerable.Repeat("The cat sat on the mat and looked at the sun. ", 12));
        var cold = await Run(Request(prefix + "Then a bird", 9));
        var before = _model.Scheduler.PromptTokensReused;

        var warm = await Run(Request(prefix + "Then a dog", 9));

        var prefixTokens = Prompt(prefix).Length;
        Assert.True(warm.Reused >= prefixTokens - 2, $"reused {warm.Reused} of a {prefixTokens}-token prefix");
        Assert.True(_model.Scheduler.PromptTokensReused - before >= prefixTokens - 2);
        Assert.NotEmpty(cold.Texts[0]);
    }

    [Fact]
    public async Task A_prefix_hit_gives_the_same_text_as_a_cold_run()
    {
        var prompt = string.Concat(Enumerable.Repeat("Ben had a red ball. ", 10)) + "One day";
        var first = await Run(Request(prompt, 77));
        var again = await Run(Request(prompt, 77));
        Assert.True(again.Reused > 0);
        Assert.Equal(first.Texts[0], again.Texts[0]);
    }

    [Fact]
    public async Task Cancelling_a_request_frees_its_sequence_at_once()
    {
        using var cts = new CancellationTokenSource();
        var reader = _model.Generate(Request("Once upon a time", 1, maxTokens: 900), cts.Token);
        Assert.True(await reader.WaitToReadAsync());
        cts.Cancel();

        var clock = Stopwatch.StartNew();
        while (await reader.WaitToReadAsync()) while (reader.TryRead(out _)) { }
        while (_model.Scheduler.ActiveSequences > 0 && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(2);
        Assert.Equal(0, _model.Scheduler.ActiveSequences);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_short_request_is_not_starved_by_a_long_one()
    {
        var longRun = Run(Request("Once upon a time", 3, maxTokens: 900));
        while (_model.Scheduler.ActiveSequences == 0) await Task.Delay(1);
        var shortRun = Run(Request("The little dog", 4, maxTokens: 5));

        var first = await Task.WhenAny(longRun, shortRun);
        Assert.Same(shortRun, first);
        await longRun;
    }

    [Fact]
    public async Task A_full_wait_queue_refuses_new_requests_at_once()
    {
        // Four long requests fill the four sequences; the queue (capacity 2) then fills, and the next submission is refused.
        using var cts = new CancellationTokenSource();
        var readers = new List<ChannelReader<EngineEvent>>();
        var refused = false;
        for (var i = 0; i < 12 && !refused; i++)
        {
            try { readers.Add(_model.Generate(Request("Once upon a time", (uint)i, maxTokens: 900), cts.Token)); }
            catch (EngineOverloadedException) { refused = true; }
        }
        cts.Cancel();
        Assert.True(refused);
        Assert.Equal(4 + 2, readers.Count);
        foreach (var r in readers) while (await r.WaitToReadAsync()) while (r.TryRead(out _)) { }
    }
}

/// <summary>Process-wide memory is only meaningful with no other test running, so this class runs alone.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SchedulerMemoryTests : IDisposable
{
    private readonly SchedulerModelFixture _fixture = new();

    private Task Run(string text, uint seed)
    {
        var model = _fixture.Model;
        var request = new EngineRequest(model.TokenizePrompt([new ChatMessage("user", text)]), new SamplingParameters(0.9f, 0.95f, 40, seed), 3, []);
        return model.Generate(request, CancellationToken.None).ReadAllAsync().CountAsync().AsTask();
    }

    [Fact]
    public async Task Memory_stays_bounded_over_a_thousand_requests()
    {
        for (var i = 0; i < 100; i++) await Run("Once upon a time", (uint)i);
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var privateBefore = Process.GetCurrentProcess().PrivateMemorySize64;

        for (var i = 0; i < 1000; i++) await Run(i % 2 == 0 ? "Once upon a time" : "The little dog", (uint)i);

        var managedGrowth = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        var privateGrowth = Process.GetCurrentProcess().PrivateMemorySize64 - privateBefore;
        Assert.True(managedGrowth < 4 << 20, $"managed heap grew by {managedGrowth:N0} bytes");
        Assert.True(privateGrowth < 64 << 20, $"private memory grew by {privateGrowth:N0} bytes");
    }

    public void Dispose() => _fixture.Dispose();
}

public sealed class SamplingTests(SchedulerModelFixture fixture) : IClassFixture<SchedulerModelFixture>
{
    private async Task<string> Generate(SamplingParameters sampling, int maxTokens = 60)
    {
        var model = fixture.Model;
        var request = new EngineRequest(model.TokenizePrompt([new ChatMessage("user", "Once upon a time")]), sampling, maxTokens, []);
        var text = new StringBuilder();
        await foreach (var e in model.Generate(request, CancellationToken.None).ReadAllAsync())
            if (e is TextGenerated t) text.Append(t.Text);
        return text.ToString();
    }

    [Fact]
    public async Task Top_k_of_one_is_greedy()
    {
        var greedy = await Generate(new SamplingParameters(0, 1, 0, 1));
        Assert.Equal(greedy, await Generate(new SamplingParameters(1.5f, 1, 1, 2)));
        Assert.Equal(greedy, await Generate(new SamplingParameters(1.5f, 1, 1, 3)));
    }

    [Fact]
    public async Task A_tiny_top_p_is_greedy()
    {
        var greedy = await Generate(new SamplingParameters(0, 1, 0, 1));
        Assert.Equal(greedy, await Generate(new SamplingParameters(1.0f, 0.0001f, 0, 5)));
    }

    [Fact]
    public async Task Presence_and_frequency_penalties_change_what_is_sampled()
    {
        // Greedy decoding of this model repeats itself; penalising repeats must change the text.
        var plain = await Generate(new SamplingParameters(0, 1, 0, 1), 120);
        var presence = await Generate(new SamplingParameters(0, 1, 0, 1, PresencePenalty: 1.5f), 120);
        var frequency = await Generate(new SamplingParameters(0, 1, 0, 1, FrequencyPenalty: 1.5f), 120);
        Assert.NotEqual(plain, presence);
        Assert.NotEqual(plain, frequency);
    }

    [Fact]
    public void A_context_larger_than_the_training_context_can_be_asked_for()
    {
        using var model = LlamaModel.Load(new ModelSpec("stories260k", TestModels.Stories260K),
            new EngineOptions { Threads = 2, Parallel = 1, ContextSize = 4096 }, NullLogger.Instance);
        Assert.Equal(2048, model.TrainingContextSize);
        Assert.Equal(4096, model.ContextSize);
    }

    [Fact]
    public void A_configured_chat_template_replaces_the_fallback()
    {
        using var model = LlamaModel.Load(new ModelSpec("stories260k", TestModels.Stories260K, ChatTemplate: "chatml"),
            new EngineOptions { Threads = 2, Parallel = 1, ContextSize = 256 }, NullLogger.Instance);
        Assert.Equal("chatml", model.Template.Name);
        var text = model.Template.Render([new ChatMessage("system", "Be kind."), new ChatMessage("user", "Hi")]);
        Assert.Equal("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void A_model_without_a_template_uses_the_transcript_fallback()
    {
        Assert.Equal(TranscriptFallback.TemplateName, fixture.Model.Template.Name);
    }
}
