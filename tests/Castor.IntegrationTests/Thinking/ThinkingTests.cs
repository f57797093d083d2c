using System.Text;
using Castor.Application.Backends;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Engine.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Castor.IntegrationTests.Thinking;

/// <summary>
/// The test model cannot think, so it is configured the way a template like DeepSeek-R1's works: the prompt opens a
/// thought (<c>&lt;think&gt;</c>), the output starts inside it, and only the budget decides where it ends.
/// </summary>
public sealed class ThinkingModelFixture : IDisposable
{
    public ThinkingModelFixture()
    {
        NativeLogging.RouteTo(NullLogger.Instance);
        Model = LlamaModel.Load(
            new ModelSpec("thinker", TestModels.Stories260K, Thinking: new ThinkingMarkers("<think>", "</think>", StartsInThought: true)),
            new EngineOptions { Threads = 2, Parallel = 2, ContextSize = 1024 }, NullLogger.Instance);
        Registry = new ModelCatalogue([new LlamaBackend(Model)]);
        Generation = new GenerationService(Registry);
    }

    public static readonly Caller Caller = new("project-1", "default", "key-1");

    public LlamaModel Model { get; }
    public ModelCatalogue Registry { get; }
    public GenerationService Generation { get; }

    public void Dispose() => Registry.Dispose();
}

public sealed class ThinkingTests(ThinkingModelFixture fixture) : IClassFixture<ThinkingModelFixture>
{
    private static GenerationRequest Request(int? budget, bool? includeThoughts, int maxTokens = 60) => new()
    {
        Model = "models/gemini-2.5-flash",
        Contents = [new Content("user", [new TextPart("Once upon a time")])],
        Config = new GenerationConfig { Seed = 12, MaxOutputTokens = maxTokens, ThinkingConfig = new ThinkingConfig(budget, includeThoughts, null) },
    };

    [Fact]
    public async Task A_budget_caps_thought_tokens_and_the_end_marker_is_forced()
    {
        var result = await fixture.Generation.GenerateAsync(ThinkingModelFixture.Caller, Request(budget: 10, includeThoughts: true), CancellationToken.None);
        var candidate = result.Candidates[0];
        var endMarker = fixture.Model.TokenizeMarker("</think>").Length;

        Assert.InRange(result.Usage.ThoughtsTokenCount, 10, 10 + endMarker);
        Assert.False(string.IsNullOrEmpty(candidate.Thought));
        Assert.DoesNotContain("<think>", candidate.Thought + candidate.Text);
        Assert.DoesNotContain("</think>", candidate.Thought + candidate.Text);
        Assert.Equal(60 - result.Usage.ThoughtsTokenCount, result.Usage.CandidatesTokenCount);
        Assert.Equal(result.Usage.PromptTokenCount + 60, result.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Thoughts_are_left_out_unless_include_thoughts_is_set()
    {
        var result = await fixture.Generation.GenerateAsync(ThinkingModelFixture.Caller, Request(budget: 10, includeThoughts: false), CancellationToken.None);
        Assert.Equal("", result.Candidates[0].Thought);
        Assert.True(result.Usage.ThoughtsTokenCount >= 10);
    }

    [Fact]
    public async Task A_zero_budget_answers_without_thinking()
    {
        var result = await fixture.Generation.GenerateAsync(ThinkingModelFixture.Caller, Request(budget: 0, includeThoughts: true, maxTokens: 20), CancellationToken.None);
        Assert.Equal(0, result.Usage.ThoughtsTokenCount);
        Assert.Equal("", result.Candidates[0].Thought);
        Assert.Equal(20, result.Usage.CandidatesTokenCount);
    }

    [Fact]
    public async Task Streamed_thoughts_come_before_the_answer()
    {
        var stream = await fixture.Generation.StartAsync(ThinkingModelFixture.Caller, Request(budget: 8, includeThoughts: true), CancellationToken.None);
        var order = new StringBuilder();
        await foreach (var update in stream.ReadAllAsync())
        {
            if (update.Thought.Length > 0) order.Append('T');
            if (update.Text.Length > 0) order.Append('A');
        }
        var sequence = order.ToString();
        Assert.Contains('T', sequence);
        Assert.Contains('A', sequence);
        Assert.DoesNotContain("AT", sequence);
    }

    [Fact]
    public void The_model_reports_that_it_thinks()
    {
        Assert.True(fixture.Registry.Describe("thinker").Thinking);
    }
}
