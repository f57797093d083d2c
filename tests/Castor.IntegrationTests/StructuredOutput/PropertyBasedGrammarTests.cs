using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Castor.Engine.Grammars;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Castor.IntegrationTests.Engine;
using Json.Schema;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.StructuredOutput;

/// <summary>
/// The proof behind structured output: for many random schemas, the test model's grammar-constrained output always
/// parses and validates (JsonSchema.Net, formats asserted), although the model knows nothing of JSON.
/// </summary>
public sealed class PropertyBasedGrammarTests(SchedulerModelFixture fixture, ITestOutputHelper output) : IClassFixture<SchedulerModelFixture>
{
    public const int SchemaCount = 120;

    [Fact]
    public async Task Every_output_of_the_test_model_parses_and_validates_against_its_random_schema()
    {
        var model = fixture.Model;
        var prompt = model.TokenizePrompt([new ChatMessage("user", "Once upon a time")]);
        var schemas = new RandomSchemas(seed: 20261127);
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
        var failures = new List<string>();
        var outputs = 0;

        // Four at a time, one per parallel sequence of the fixture's model.
        for (var batch = 0; batch < SchemaCount / 4; batch++)
        {
            var cases = Enumerable.Range(0, 4).Select(i => schemas.Next()).ToList();
            var runs = cases.Select((schema, i) => Run(model, prompt, schema, (uint)(batch * 4 + i))).ToList();
            var texts = await Task.WhenAll(runs);
            for (var i = 0; i < cases.Count; i++)
            {
                outputs++;
                var (text, cause) = texts[i];
                var schemaText = cases[i].ToJsonString();
                try
                {
                    Assert.NotEqual(FinishCause.MaxOutputTokens, cause);
                    using var instance = JsonDocument.Parse(text);
                    var result = JsonSchema.FromText(schemaText).Evaluate(instance.RootElement, options);
                    if (!result.IsValid)
                        failures.Add($"invalid: {text}\n  schema: {schemaText}\n  errors: {string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Values))}");
                }
                catch (Exception ex) when (ex is JsonException or Xunit.Sdk.XunitException)
                {
                    failures.Add($"{ex.GetType().Name}: {text}\n  schema: {schemaText}\n  {ex.Message}");
                }
            }
        }

        output.WriteLine($"{outputs} random schemas tried, {failures.Count} failures.");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(5)));
        Assert.Equal(SchemaCount, outputs);
    }

    private static async Task<(string Text, FinishCause Cause)> Run(Castor.Engine.Models.LlamaModel model, int[] prompt, JsonObject schema, uint seed)
    {
        var grammar = new GrammarConstraint(JsonSchemaGrammar.Compile(schema));
        var request = new EngineRequest(prompt, new SamplingParameters(1.0f, 0.95f, 64, seed), 900, [], 1, grammar);
        var text = new StringBuilder();
        var cause = FinishCause.EndOfText;
        await foreach (var e in model.Generate(request, CancellationToken.None).ReadAllAsync())
        {
            if (e is TextGenerated t) text.Append(t.Text);
            if (e is GenerationFinished f) cause = f.Cause;
            if (e is GenerationFailed failed) throw new Xunit.Sdk.XunitException(failed.Message);
        }
        return (text.ToString(), cause);
    }
}
