using System.Text;
using Castor.Engine.Grammars;
using Castor.Engine.Models;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Engine;

public abstract class GrammarModelFixture : IDisposable
{
    protected GrammarModelFixture(TimeSpan grammarStepTimeout)
    {
        NativeLogging.RouteTo(NullLogger.Instance);
        Model = LlamaModel.Load(new ModelSpec("stories260k", TestModels.Stories260K),
            new EngineOptions { Threads = 2, Parallel = 2, ContextSize = 512, MaxQueue = 4, GrammarStepTimeout = grammarStepTimeout },
            NullLogger.Instance);
    }

    public LlamaModel Model { get; }

    public void Dispose()
    {
        Model.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A budget no draw reaches here, to watch a costly draw run.</summary>
public sealed class PatientGrammarModelFixture() : GrammarModelFixture(TimeSpan.FromMinutes(2));

/// <summary>A quarter of a second per draw; the costly draw below takes about a second here, more on a slower machine.</summary>
public sealed class StrictGrammarModelFixture() : GrammarModelFixture(TimeSpan.FromMilliseconds(250));

/// <summary>
/// A grammar whose alternatives all begin alike makes llama.cpp track one stack per parse path and compare every new
/// stack with all the others: 4 alternatives nested 7 deep are 16,384 stacks, built by the draw after the opening
/// bracket, which takes about a second of grammar work here that cannot be interrupted (a level more: ~20 s). The review
/// stalled every project's generation for ten minutes with a schema of this shape.
/// </summary>
internal static class CostlyGrammar
{
    /// <summary>
    /// Every alternative begins with the same nonterminal, so accepting the opening bracket builds all 4^depth stacks
    /// at once: the first draw is the costly one, whatever the model samples.
    /// </summary>
    public static string AmbiguousFromTheStart(int depth, int fanout = 4)
    {
        var sb = new StringBuilder("root ::= \"[\" l0\n");
        for (var d = 0; d < depth; d++)
        {
            var inner = d == depth - 1 ? "[0-9]" : $"l{d + 1}";
            var alternatives = Enumerable.Range(0, fanout).Select(i => i == 0 ? inner : $"{inner} \"{new string(' ', i)}\"");
            sb.Append($"l{d} ::= ").AppendJoin(" | ", alternatives).Append('\n');
        }
        return sb.ToString();
    }

    public static EngineRequest Request(LlamaModel model, string text, uint seed, int maxTokens, GrammarConstraint? grammar = null) =>
        new(model.TokenizePrompt([new ChatMessage("user", text)]), new SamplingParameters(0.9f, 0.95f, 40, seed), maxTokens, [], 1, grammar);

    public static async Task AssertGrammarStillWorks(LlamaModel model)
    {
        var text = new StringBuilder();
        await foreach (var e in model.Generate(Request(model, "Once upon a time", 9, 12, new GrammarConstraint("root ::= \"[\" [0-9] \"]\"")), CancellationToken.None).ReadAllAsync())
        {
            if (e is GenerationFailed f) Assert.Fail(f.Message);
            if (e is TextGenerated t) text.Append(t.Text);
        }
        Assert.Matches(@"^\[[0-9]\]$", text.ToString());
    }
}

public sealed class GrammarDrawIsolationTests(PatientGrammarModelFixture fixture) : IClassFixture<PatientGrammarModelFixture>
{
    private readonly LlamaModel _model = fixture.Model;

    [Fact]
    public async Task Other_requests_keep_streaming_while_a_costly_grammar_draw_runs_and_cancelling_it_frees_its_sequence()
    {
        using var cancel = new CancellationTokenSource();
        var hostile = _model.Generate(CostlyGrammar.Request(_model, "Once upon a time", 7, 40, new GrammarConstraint(CostlyGrammar.AmbiguousFromTheStart(depth: 7))), cancel.Token);

        // The prompt is processed just before the first draw starts, and that draw builds 16,384 stacks, each compared
        // with the others (about a second here, far more on a slower or busier machine).
        // (GenerationStarted, when the sequence left the queue, comes before it.)
        var first = await hostile.ReadAsync();
        if (first is GenerationStarted) first = await hostile.ReadAsync();
        Assert.IsType<PromptProcessed>(first);

        // A plain request submitted now runs to its end while that draw is still going: the scheduler thread does
        // not do grammar work. Before, every step waited for the costly draw.
        var hostileEventsMeanwhile = 0;
        var plainText = new StringBuilder();
        var finished = false;
        await foreach (var e in _model.Generate(CostlyGrammar.Request(_model, "The little dog", 3, 6), CancellationToken.None).ReadAllAsync())
        {
            if (e is GenerationFailed f) Assert.Fail(f.Message);
            if (e is TextGenerated t) plainText.Append(t.Text);
            if (e is GenerationFinished) finished = true;
            while (hostile.TryRead(out _)) hostileEventsMeanwhile++;
        }
        Assert.True(finished);
        Assert.NotEmpty(plainText.ToString());
        Assert.Equal(0, hostileEventsMeanwhile);

        // Cancelling the costly request mid-draw ends its stream and frees its sequence; its sampler is freed when
        // llama.cpp returns, not under the running draw.
        cancel.Cancel();
        await foreach (var _ in hostile.ReadAllAsync()) { }
        Assert.Equal(0, _model.Scheduler.ActiveSequences);
        while (_model.Scheduler.GrammarDrawsRunning > 0) await Task.Delay(20);
        await CostlyGrammar.AssertGrammarStillWorks(_model);
    }
}

public sealed class GrammarBudgetTests(StrictGrammarModelFixture fixture) : IClassFixture<StrictGrammarModelFixture>
{
    private readonly LlamaModel _model = fixture.Model;

    [Fact]
    public async Task A_draw_past_the_grammar_budget_fails_its_request_alone_blaming_the_schema()
    {
        GenerationFailed? failure = null;
        var log = new StringBuilder();
        await foreach (var e in _model.Generate(CostlyGrammar.Request(_model, "Once upon a time", 7, 40, new GrammarConstraint(CostlyGrammar.AmbiguousFromTheStart(depth: 7))), CancellationToken.None).ReadAllAsync())
        {
            if (e is GenerationFailed f) failure = f;
            log.Append(e).Append('\n');
        }

        Assert.True(failure is not null, log.ToString());
        Assert.True(failure.ByRequest);
        Assert.Contains("too costly to enforce", failure.Message);
        Assert.Equal(0, _model.Scheduler.ActiveSequences);

        // The abandoned draw finishes inside llama.cpp in its own time; then nothing of it is left running.
        while (_model.Scheduler.GrammarDrawsRunning > 0) await Task.Delay(20);
        await CostlyGrammar.AssertGrammarStillWorks(_model);
    }
}
