using Castor.Engine.Models;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Engine;

/// <summary>Four sequences, prompts computed 32 tokens a step, so a long prompt takes many steps.</summary>
public sealed class SmallBatchModelFixture : IDisposable
{
    public SmallBatchModelFixture() => NativeLogging.RouteTo(NullLogger.Instance);

    public LlamaModel Model { get; } = LlamaModel.Load(
        new ModelSpec("stories260k", TestModels.Stories260K),
        new EngineOptions { Threads = 2, Parallel = 4, ContextSize = 1024, BatchSize = 32, MaxQueue = 4 },
        NullLogger.Instance);

    public void Dispose() => Model.Dispose();
}

/// <summary>Batch-priority sequences sit out the steps that compute an interactive prompt (counted in steps, not time).</summary>
public sealed class BatchYieldTests(SmallBatchModelFixture fixture) : IClassFixture<SmallBatchModelFixture>
{
    private readonly LlamaModel _model = fixture.Model;

    private int[] Prompt(string text) => _model.TokenizePrompt([new ChatMessage("user", text)]);

    [Fact]
    public async Task Batch_sequences_make_no_progress_while_an_interactive_prompt_is_computed()
    {
        using var cancel = new CancellationTokenSource();
        var produced = new int[3];
        var readers = new List<Task>();
        for (var i = 0; i < 3; i++)
        {
            var index = i;
            var reader = _model.Generate(new EngineRequest(Prompt($"Tale number {i}."), new SamplingParameters(0.9f, 0.95f, 40, (uint)i), 600, [],
                Priority: EnginePriority.Batch), cancel.Token);
            readers.Add(Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in reader.ReadAllAsync(cancel.Token))
                        if (e is TextGenerated) Interlocked.Increment(ref produced[index]);
                }
                catch (OperationCanceledException)
                {
                    // The test ends the batch streams when it has its answer.
                }
            }));
        }
        while (Enumerable.Range(0, 3).Any(i => Volatile.Read(ref produced[i]) < 5)) await Task.Delay(5);

        // About 480 prompt tokens: 15 steps of 32 on a free sequence.
        var longPrompt = Prompt(string.Concat(Enumerable.Repeat("Lily and Tom played with a red ball in the park. ", 40)));
        Assert.True(longPrompt.Length > 320, $"the prompt has {longPrompt.Length} tokens");
        var before = Enumerable.Range(0, 3).Sum(i => Volatile.Read(ref produced[i]));
        var interactive = _model.Generate(new EngineRequest(longPrompt, new SamplingParameters(0.9f, 0.95f, 40, 7), 1, []), CancellationToken.None);
        await foreach (var e in interactive.ReadAllAsync())
            if (e is PromptProcessed or TextGenerated) break;
        var during = Enumerable.Range(0, 3).Sum(i => Volatile.Read(ref produced[i])) - before;

        await cancel.CancelAsync();
        await Task.WhenAll(readers);
        // Each batch sequence may finish the step in flight when the request arrived and one planned before it started;
        // without the yield each would take a token in every one of the prompt's ~15 steps.
        Assert.True(during <= 3 * 3, $"batch sequences produced {during} tokens while the interactive prompt was computed");
    }
}
