using System.Text;
using System.Text.Json.Nodes;
using Castor.Application.Tools;
using Castor.Engine.Sampling;
using Castor.Engine.Scheduling;
using Castor.Engine.Templates;
using Castor.IntegrationTests.Engine;

namespace Castor.IntegrationTests.FunctionCalling;

/// <summary>Each native format's call grammar, run on the test model, yields calls that format's own parser reads back.</summary>
public sealed class ToolFormatGrammarTests(SchedulerModelFixture fixture) : IClassFixture<SchedulerModelFixture>
{
    private static readonly FunctionDeclaration[] Functions =
    [
        new("get_weather", "Weather for a city", JsonNode.Parse("""{"type":"OBJECT","properties":{"city":{"type":"STRING","maxLength":"10"},"days":{"type":"INTEGER","minimum":1,"maximum":7}},"required":["city","days"]}""")),
        new("ping", null, null),
    ];

    [Theory]
    [InlineData("hermes", 1u)]
    [InlineData("mistral", 2u)]
    [InlineData("llama3-json", 3u)]
    public async Task A_forced_call_in_each_format_parses_into_valid_calls(string name, uint seed)
    {
        var format = new[] { ToolCallFormat.Hermes, ToolCallFormat.Mistral, ToolCallFormat.Llama3 }.Single(f => f.Name == name);
        var model = fixture.Model;
        var request = new EngineRequest(model.TokenizePrompt([new ChatMessage("user", "Once upon a time")]),
            new SamplingParameters(1f, 0.95f, 64, seed), 900, [], 1, format.Grammar(Functions, lazy: false));
        var text = new StringBuilder();
        await foreach (var e in model.Generate(request, CancellationToken.None).ReadAllAsync())
            if (e is TextGenerated t) text.Append(t.Text);

        var splitter = format.CreateSplitter();
        var parts = splitter.Push(text.ToString()).Concat(splitter.Finish()).ToList();
        var calls = parts.OfType<Castor.Application.Generation.FunctionCallPart>().ToList();
        Assert.False(splitter.Malformed, text.ToString());
        Assert.Equal("", ToolCallSplitter.TextOf(parts).Trim());
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            Assert.Contains(call.Name, new[] { "get_weather", "ping" });
            if (call.Name == "get_weather")
                Assert.InRange(call.Args!.Value.GetProperty("days").GetInt32(), 1, 7);
        }
    }
}
