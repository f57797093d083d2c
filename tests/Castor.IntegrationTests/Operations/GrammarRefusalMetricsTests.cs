using Castor.Application.Backends;
using Castor.Application.Models;
using Castor.Engine.Grammars;
using Castor.Engine.Scheduling;
using Castor.IntegrationTests.Engine;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;
using static Castor.IntegrationTests.Operations.PrometheusScrape;

namespace Castor.IntegrationTests.Operations;

/// <summary>A server whose grammar draws may take 20 ms each (Limits:GrammarStepTimeout; the default is 5 s).</summary>
public sealed class StrictGrammarServerFixture : CastorServerFixture
{
    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Limits.GrammarStepTimeout = TimeSpan.FromMilliseconds(20);
        return options;
    }
}

/// <summary>castor.grammar.refusals counts the requests the engine fails because choosing one token under their grammar outlasted the budget (issue 20).</summary>
public sealed class GrammarRefusalMetricsTests(StrictGrammarServerFixture server) : IClassFixture<StrictGrammarServerFixture>
{
    [Fact]
    public async Task A_request_whose_grammar_draw_outlasts_the_budget_moves_the_refusal_counter()
    {
        const string refusals = "castor_grammar_refusals_total";
        const string model = "gen_ai_request_model=\"stories260k\"";
        // Other tests' models in this process share the meter: this test counts what its own request adds.
        var before = Sample(await ReadAsync(server), refusals, model) ?? 0;

        // The API's schema compiler refuses the schemas that would build such a grammar (a 400, not a refusal), so the
        // request goes to the served model's engine with the grammar itself: 4^7 look-alike parse paths make its first
        // draw take about a second here, fifty times the budget.
        var llama = ((LlamaBackend)server.App.Services.GetRequiredService<ModelCatalogue>().ResolveGenerative("stories260k")).Model;
        GenerationFailed? failure = null;
        await foreach (var e in llama.Generate(CostlyGrammar.Request(llama, "Once upon a time", 7, 40, new GrammarConstraint(CostlyGrammar.AmbiguousFromTheStart(depth: 7))),
                           CancellationToken.None).ReadAllAsync())
            if (e is GenerationFailed f) failure = f;
        Assert.NotNull(failure);
        Assert.Contains("too costly to enforce", failure.Message);

        Assert.True(Sample(await ReadAsync(server), refusals, model) >= before + 1);
        // The abandoned draw ends inside llama.cpp in its own time; the server is not stopped under it.
        while (llama.Scheduler.GrammarDrawsRunning > 0) await Task.Delay(20);
    }
}
