using System.Threading.Channels;
using Xunit.Abstractions;
using Castor.Engine.Models;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Engine;

/// <summary>The scheduler's parts seen from outside: admission by priority, cache commands, garbage per token.</summary>
public sealed class SchedulerPartsTests(SchedulerModelFixture fixture, ITestOutputHelper output) : IClassFixture<SchedulerModelFixture>
{
    private readonly LlamaModel _model = fixture.Model;

    private int[] Prompt(LlamaModel model, string text) => model.TokenizePrompt([new ChatMessage("user", text)]);

    private static async Task<(int Reused, int Tokens)> Drain(ChannelReader<EngineEvent> reader)
    {
        var reused = 0;
        var tokens = 0;
        await foreach (var e in reader.ReadAllAsync())
        {
            switch (e)
            {
                case PromptProcessed p: reused = p.ReusedTokens; break;
                case GenerationFinished f: tokens = f.OutputTokens; break;
                case GenerationFailed failed: throw new Xunit.Sdk.XunitException(failed.Message);
            }
        }
        return (reused, tokens);
    }

    [Fact]
    public async Task The_steady_decode_loop_allocates_nothing_per_token()
    {
        // The same greedy request to 60 and to 460 tokens: what they share (admission, prompt, finishing) cancels out,
        // and the difference is what 400 more steady-state tokens cost in garbage on the scheduler thread.
        var greedy = new SamplingParameters(0, 1, 0, 1);
        var prompt = Prompt(_model, "Once upon a time");
        async Task<(long Bytes, long Tokens)> Measure(int maxTokens)
        {
            var before = _model.Scheduler.AllocationMeter;
            await Drain(_model.Generate(new EngineRequest(prompt, greedy, maxTokens, []), CancellationToken.None));
            var after = _model.Scheduler.AllocationMeter;
            return (after.Bytes - before.Bytes, after.Tokens - before.Tokens);
        }

        // Warm-up: the slot's position list, the channels' and the JIT's first-time costs.
        await Measure(460);
        await Measure(460);
        var shortRun = await Measure(60);
        var longRun = await Measure(460);

        var tokens = longRun.Tokens - shortRun.Tokens;
        Assert.True(tokens >= 200, $"the long run generated only {tokens} more tokens");
        var perToken = (double)(longRun.Bytes - shortRun.Bytes) / tokens;
        output.WriteLine($"{perToken:0.0} bytes per token over {tokens} tokens");
        // A token that is whole characters by itself streams the model's shared string and event (TokenPieces): nothing
        // is allocated but the channel's amortised segment growth. One new event and string would be ~60 bytes a token;
        // a LINQ query or a per-step list in the loop well over a hundred.
        Assert.True(perToken < 16, $"{perToken:0.0} bytes allocated per token on the scheduler thread");
    }

    [Fact]
    public async Task Waiting_interactive_requests_start_before_waiting_batch_requests()
    {
        using var model = LlamaModel.Load(new ModelSpec("stories260k", TestModels.Stories260K),
            new EngineOptions { Threads = 2, Parallel = 1, ContextSize = 1024, MaxQueue = 4 }, NullLogger.Instance);
        var greedy = new SamplingParameters(0, 1, 0, 1);
        using var holdCancel = new CancellationTokenSource();
        // Greedy decoding of this model repeats itself rather than ending: it holds the only sequence until cancelled.
        var hold = model.Generate(new EngineRequest(Prompt(model, "Once upon a time"), greedy, 900, []), holdCancel.Token);
        Assert.True(await hold.WaitToReadAsync());

        var batch = model.Generate(new EngineRequest(Prompt(model, "The little dog"), greedy, 5, [], Priority: EnginePriority.Batch), CancellationToken.None);
        var interactive = model.Generate(new EngineRequest(Prompt(model, "Lily wanted to"), greedy, 5, []), CancellationToken.None);
        holdCancel.Cancel();
        var batchRun = Drain(batch);
        var interactiveRun = Drain(interactive);

        // One sequence: whichever starts first also finishes first.
        Assert.Same(interactiveRun, await Task.WhenAny(batchRun, interactiveRun));
        await batchRun;
        while (await hold.WaitToReadAsync()) while (hold.TryRead(out _)) { }
    }

    [Fact]
    public async Task Releasing_idle_prefixes_frees_them_for_one_partition_and_keeps_the_others()
    {
        using var model = LlamaModel.Load(new ModelSpec("stories260k", TestModels.Stories260K),
            new EngineOptions { Threads = 2, Parallel = 2, ContextSize = 512 }, NullLogger.Instance);
        var prompt = Prompt(model, string.Concat(Enumerable.Repeat("Ben had a red ball. ", 8)) + "One day");
        var sampling = new SamplingParameters(0.9f, 0.95f, 40, 7);
        EngineRequest Request(string partition) => new(prompt, sampling, 4, [], PrefixPartition: partition);

        await Drain(model.Generate(Request("a"), CancellationToken.None));
        await Drain(model.Generate(Request("b"), CancellationToken.None));

        var freed = await model.Scheduler.ReleaseIdlePrefixesAsync("a");
        Assert.True(freed >= prompt.Length, $"freed {freed} positions");
        Assert.Equal(0, (await Drain(model.Generate(Request("a"), CancellationToken.None))).Reused);
        Assert.True((await Drain(model.Generate(Request("b"), CancellationToken.None))).Reused > 0);

        Assert.True(await model.Scheduler.ReleaseIdlePrefixesAsync() > 0);
        Assert.Equal(0, (await Drain(model.Generate(Request("b"), CancellationToken.None))).Reused);
    }

    [Fact]
    public async Task A_prefix_resident_in_a_busy_sequence_is_copied_and_gives_the_same_text_as_a_cold_run()
    {
        // Each sequence has its own KV stream: the busy one's whole stream is copied and cut to the shared prefix.
        using var model = LlamaModel.Load(new ModelSpec("stories260k", TestModels.Stories260K),
            new EngineOptions { Threads = 2, Parallel = 2, ContextSize = 1024, FlashAttention = FlashAttentionMode.On }, NullLogger.Instance);
        var prefix = string.Concat(Enumerable.Repeat("The cat sat on the mat and looked at the sun. ", 10));
        var request = new EngineRequest(Prompt(model, prefix + "Then a dog"), new SamplingParameters(0.9f, 0.95f, 40, 9), 20, []);
        var cold = await Collect(model.Generate(request, CancellationToken.None));
        await model.Scheduler.ReleaseIdlePrefixesAsync();

        using var holdCancel = new CancellationTokenSource();
        var hold = model.Generate(new EngineRequest(Prompt(model, prefix + "Then a bird"), new SamplingParameters(0, 1, 0, 1), 900, []), holdCancel.Token);
        Assert.True(await hold.WaitToReadAsync());
        var copied = await Collect(model.Generate(request, CancellationToken.None));
        holdCancel.Cancel();
        while (await hold.WaitToReadAsync()) while (hold.TryRead(out _)) { }

        Assert.True(copied.Reused >= Prompt(model, prefix).Length - 2, $"reused {copied.Reused}");
        Assert.Equal(cold.Text, copied.Text);
    }

    private static async Task<(int Reused, string Text)> Collect(ChannelReader<EngineEvent> reader)
    {
        var reused = 0;
        var text = new System.Text.StringBuilder();
        await foreach (var e in reader.ReadAllAsync())
        {
            switch (e)
            {
                case PromptProcessed p: reused = p.ReusedTokens; break;
                case TextGenerated t: text.Append(t.Text); break;
                case GenerationFailed failed: throw new Xunit.Sdk.XunitException(failed.Message);
            }
        }
        return (reused, text.ToString());
    }

    [Fact]
    public void A_prompt_with_media_is_refused_until_the_engine_can_evaluate_it()
    {
        var prompt = new EnginePrompt([new TokenRun(Prompt(_model, "Look")), new MediaPlaceholder("image/png", 1, 16)]);
        Assert.Throws<NotSupportedException>(() =>
            _model.Generate(new EngineRequest(prompt, new SamplingParameters(1, 1, 0, 1), 4, []), CancellationToken.None));
    }
}
