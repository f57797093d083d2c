using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Castor.Engine.Grammars;
using Castor.IntegrationTests.Robustness;
using LLama;
using LLama.Common;
using LLama.Native;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.StructuredOutput;

/// <summary>The test model's weights alone, for bare llama.cpp grammar samplers.</summary>
public sealed class TestModelWeights : IDisposable
{
    public LLamaWeights Weights { get; } = LLamaWeights.LoadFromFile(new ModelParams(TestModels.Stories260K) { GpuLayerCount = 0 });

    public void Dispose() => Weights.Dispose();
}

/// <summary>
/// <see cref="SchemaLimits"/> checked against the llama.cpp that LLamaSharp ships: the repetition cap is what llama.cpp
/// accepts, and a grammar at the parse path limit steps through a whole output.
/// </summary>
public sealed class GrammarLimitsNativeTests(TestModelWeights model, ITestOutputHelper output) : IClassFixture<TestModelWeights>
{
    private SafeLlamaModelHandle Handle => model.Weights.NativeHandle;

    [Fact]
    public void Lengths_and_counts_at_the_repetition_cap_are_accepted_by_llama_cpp_and_one_more_is_refused()
    {
        var n = SchemaLimits.MaxRepetition.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var schema in new[]
        {
            """{"type":"string","maxLength":N}""",
            """{"type":"string","minLength":N}""",
            """{"type":"string","minLength":1,"maxLength":N}""",
            """{"type":"array","items":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},"maxItems":N}""",
            """{"type":"array","items":{"type":"boolean"},"minItems":N}""",
        }.Select(t => t.Replace("N", n)))
        {
            var gbnf = JsonSchemaGrammar.Compile(JsonNode.Parse(schema)!);
            var refused = Record.Exception(() => GrammarValidator.Validate(Handle, gbnf, "root"));
            Assert.True(refused is null, $"llama.cpp refused the grammar of {schema}:\n{gbnf}");
        }

        // llama.cpp's MAX_REPETITION_THRESHOLD: should LLamaSharp ship a llama.cpp that moves it, this says so.
        Assert.Throws<InvalidGrammarException>(() =>
            GrammarValidator.Validate(Handle, $"root ::= \"x\" [a-z]{{0,{SchemaLimits.MaxRepetition + 1}}}\n", "root"));
    }

    [Fact]
    public void A_grammar_at_the_parse_path_limit_steps_through_a_whole_output()
    {
        // 2 levels of 4 look-alike alternatives: 4^2 = 16 paths, the most SchemaLimits allows.
        var gbnf = JsonSchemaGrammar.Compile(HostileSchemaShapes.LookAlikeAnyOf(2, 4));
        var (steps, perStep, text) = Walk(gbnf, seed: 7);
        output.WriteLine($"{SchemaLimits.MaxParsePaths} parse paths (compiled): {steps} tokens, {perStep.TotalMilliseconds:0.000} ms a step on average: {text}");
        Assert.NotNull(JsonNode.Parse(text));
    }

    /// <summary>
    /// The cost the limit avoids, reported (not asserted: a timing threshold would be a flaky test): hand-written
    /// look-alike grammars of 4^k parse paths, the shape the old compiler produced from the review's schema.
    /// </summary>
    [Fact]
    public void Step_time_grows_with_the_parse_paths_of_look_alike_alternatives()
    {
        for (var levels = 1; levels <= 5; levels++)
        {
            var (steps, perStep, text) = Walk(LookAlikeGrammar(levels, 4), seed: 7);
            output.WriteLine($"4^{levels} = {1 << (2 * levels)} parse paths: {steps} tokens, {perStep.TotalMilliseconds:0.000} ms a step on average");
            Assert.NotNull(JsonNode.Parse(text));
        }
    }

    private static string LookAlikeGrammar(int levels, int width)
    {
        var sb = new StringBuilder("root ::= l0\n");
        for (var level = 0; level < levels; level++)
        {
            sb.Append($"l{level} ::= ").AppendJoin(" | ", Enumerable.Range(0, width).Select(i => $"a{level}x{i}")).Append('\n');
            for (var i = 0; i < width; i++)
                sb.Append($"a{level}x{i} ::= \"{{\\\"v\\\":\" l{level + 1} \",\\\"p{i}\\\":\" (\"true\" | \"false\") \"}}\"\n");
        }
        sb.Append($"l{levels} ::= [0-9]\n");
        return sb.ToString();
    }

    /// <summary>Feeds a bare llama.cpp grammar sampler random tokens it allows until only the end is left.</summary>
    private (int Steps, TimeSpan PerStep, string Text) Walk(string gbnf, int seed)
    {
        var vocab = Handle.Vocab;
        using var grammar = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        grammar.AddGrammar(vocab, gbnf, "root");
        var random = new Random(seed);
        var logits = new float[vocab.Count];
        var buffer = new LLamaTokenData[vocab.Count];
        var text = new StringBuilder();
        var decoder = new StreamingTokenDecoder(Encoding.UTF8, model.Weights);
        var clock = new Stopwatch();
        var steps = 0;
        for (; steps < 2_000; steps++)
        {
            for (var i = 0; i < logits.Length; i++) logits[i] = (float)random.NextDouble();
            var allowed = new List<LLamaToken>();
            clock.Start();
            var array = LLamaTokenDataArray.Create(logits, buffer);
            using (LLamaTokenDataArrayNative.Create(array, out var native))
            {
                grammar.Apply(ref native);
                foreach (var candidate in native.Data)
                    if (!float.IsNegativeInfinity(candidate.Logit) && !candidate.ID.IsEndOfGeneration(vocab) && !candidate.ID.IsControl(vocab))
                        allowed.Add(candidate.ID);
            }
            clock.Stop();
            if (allowed.Count == 0) break;
            var token = allowed[random.Next(allowed.Count)];
            clock.Start();
            grammar.Accept(token);
            clock.Stop();
            decoder.Add(token);
            text.Append(decoder.Read());
        }
        return (steps, steps == 0 ? TimeSpan.Zero : clock.Elapsed / steps, text.ToString());
    }
}
