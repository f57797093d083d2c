using System.Text;
using System.Threading.Channels;
using Castor.Engine.Models;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Engine;

/// <summary>
/// Batch work yields to interactive work within a step: a step of batch work alone is aborted inside llama.cpp and
/// redone, and a batch sequence gives its slot to an interactive request and resumes later. Either way the batch
/// request's tokens are the ones an undisturbed run draws.
/// </summary>
public sealed class BatchYieldTests : IDisposable
{
    private readonly LlamaModel _model = LlamaModel.Load(new ModelSpec("stories260k", TestModels.Stories260K),
        new EngineOptions { Threads = 2, Parallel = 2, ContextSize = 1024 }, NullLogger.Instance);

    public void Dispose() => _model.Dispose();

    private EngineRequest BatchRequest(string text, uint seed, int tokens) =>
        new(_model.TokenizePrompt([new ChatMessage("user", text)]), new SamplingParameters(0.9f, 0.95f, 40, seed), tokens, [], Priority: EnginePriority.Batch);

    [Fact]
    public async Task Aborted_batch_steps_are_redone_and_give_the_same_text_as_an_undisturbed_run()
    {
        var request = BatchRequest("Once upon a time", 11, 120);
        var undisturbed = await Collect(_model.Generate(request, CancellationToken.None));
        await _model.Scheduler.ReleaseIdlePrefixesAsync();

        // Every other step of the run is stopped inside llama_decode, as an interactive arrival stops it.
        _model.Scheduler.ForceAborts(20);
        var aborted = await Collect(_model.Generate(request, CancellationToken.None));

        Assert.Equal(20, _model.Scheduler.StepsAborted);
        Assert.Equal(undisturbed, aborted);
    }

    [Fact]
    public async Task An_interactive_request_takes_a_batch_sequence_which_resumes_with_the_same_text()
    {
        // Long enough to outlast the interactive request many times over, short enough that floating-point drift
        // (recomputed positions are computed in a wider batch, whose sums round differently) cannot change a draw: a
        // replay that put one position wrong changes the text at once. The undisturbed runs also run side by side.
        var first = BatchRequest("The little dog", 21, 48);
        var second = BatchRequest("Lily wanted to", 22, 48);
        var undisturbed = await Task.WhenAll(Collect(_model.Generate(first, CancellationToken.None)), Collect(_model.Generate(second, CancellationToken.None)));
        await _model.Scheduler.ReleaseIdlePrefixesAsync();

        // Both sequences busy with batch work, each past its first token.
        var firstStarted = new TaskCompletionSource();
        var secondStarted = new TaskCompletionSource();
        var firstRun = Collect(_model.Generate(first, CancellationToken.None), firstStarted);
        var secondRun = Collect(_model.Generate(second, CancellationToken.None), secondStarted);
        await Task.WhenAll(firstStarted.Task, secondStarted.Task);

        var interactive = new EngineRequest(_model.TokenizePrompt([new ChatMessage("user", "A big red ball")]), new SamplingParameters(0, 1, 0, 1), 8, []);
        var interactiveRun = Collect(_model.Generate(interactive, CancellationToken.None));

        // It did not wait for a batch request to end.
        Assert.Same(interactiveRun, await Task.WhenAny(firstRun, secondRun, interactiveRun));
        Assert.Equal(1, _model.Scheduler.Preemptions);
        Assert.Equal(undisturbed[0], await firstRun);
        Assert.Equal(undisturbed[1], await secondRun);
    }

    private static async Task<string> Collect(ChannelReader<EngineEvent> reader, TaskCompletionSource? started = null)
    {
        var text = new StringBuilder();
        await foreach (var e in reader.ReadAllAsync())
        {
            switch (e)
            {
                case TextGenerated t:
                    text.Append(t.Text);
                    started?.TrySetResult();
                    break;
                case GenerationFailed failed:
                    throw new Xunit.Sdk.XunitException(failed.Message);
            }
        }
        started?.TrySetResult();
        return text.ToString();
    }
}
