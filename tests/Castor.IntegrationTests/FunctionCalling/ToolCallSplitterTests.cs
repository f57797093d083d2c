using Castor.Application.Generation;
using Castor.Application.Tools;

namespace Castor.IntegrationTests.FunctionCalling;

public sealed class ToolCallSplitterTests
{
    private static string Describe(IEnumerable<Part> parts) => string.Join("|", parts.Select(p => p switch
    {
        TextPart t => "text:" + t.Text,
        FunctionCallPart c => "call:" + c.Name,
        _ => "?",
    }));

    [Fact]
    public void Text_and_calls_are_separated_in_order_even_when_tags_are_split_across_chunks()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        var first = splitter.Push("Let me check. <tool_");
        var second = splitter.Push("call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>{\"name\":\"get_time\",\"arguments\":{}}</tool_call> Done.");
        var last = splitter.Finish();

        // Streaming cannot yet know the space is followed by a call, so it goes out with the text.
        Assert.Equal("text:Let me check. ", Describe(first));
        Assert.Equal("call:get_weather|call:get_time|text:Done.", Describe(second));
        Assert.Empty(last);
        var calls = second.OfType<FunctionCallPart>().ToList();
        Assert.Equal("Paris", calls[0].Args!.Value.GetProperty("city").GetString());
        Assert.NotEqual(calls[0].Id, calls[1].Id);
        Assert.False(splitter.Malformed);
    }

    [Fact]
    public void A_call_cut_off_by_the_token_limit_is_dropped()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        Assert.Equal("call:a", Describe(splitter.Push("<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call><tool_call>{\"name\": \"get_we")));
        Assert.Empty(splitter.Finish(cutOff: true));
        Assert.False(splitter.Malformed);
    }

    [Fact]
    public void A_call_opening_cut_off_by_the_token_limit_is_not_text()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        Assert.Equal("call:a", Describe(splitter.Push("<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n<tool_")));
        Assert.Empty(splitter.Finish(cutOff: true));
        Assert.False(splitter.Malformed);
    }

    [Fact]
    public void An_unfinished_call_without_a_token_limit_is_malformed()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        splitter.Push("<tool_call>{\"name\": \"get_we");
        Assert.StartsWith("<tool_call>", ToolCallSplitter.TextOf(splitter.Finish()));
        Assert.True(splitter.Malformed);
    }

    [Fact]
    public void Text_that_only_looks_like_the_start_of_a_tag_is_released()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        Assert.Equal("a ", ToolCallSplitter.TextOf(splitter.Push("a <to")));
        Assert.Equal("<tom> b", ToolCallSplitter.TextOf(splitter.Push("m> b")));
    }

    [Fact]
    public void Mistral_calls_are_an_array_after_the_marker_and_end_with_the_output()
    {
        var splitter = ToolCallFormat.Mistral.CreateSplitter();
        Assert.Empty(splitter.Push("[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"arguments\": {}}]"));
        var last = splitter.Finish();
        Assert.Equal("call:a|call:b", Describe(last));
        Assert.Equal(1, ((FunctionCallPart)last[0]).Args!.Value.GetProperty("x").GetInt32());
    }

    [Fact]
    public void Llama3_calls_are_a_json_object_with_parameters()
    {
        var splitter = ToolCallFormat.Llama3.CreateSplitter();
        splitter.Push("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
        var call = (FunctionCallPart)Assert.Single(splitter.Finish());
        Assert.Equal("Oslo", call.Args!.Value.GetProperty("city").GetString());
        Assert.False(splitter.Malformed);
    }

    [Theory]
    [InlineData("hermes")]
    [InlineData("mistral")]
    [InlineData("llama3-json")]
    public void Every_format_renders_calls_it_can_read_back(string name)
    {
        var format = new[] { ToolCallFormat.Hermes, ToolCallFormat.Mistral, ToolCallFormat.Llama3 }.Single(f => f.Name == name);
        using var args = System.Text.Json.JsonDocument.Parse("{\"city\":\"Rome\"}");
        var rendered = format.RenderCall(new FunctionCallPart("get_weather", args.RootElement.Clone(), "call_1"));
        var splitter = format.CreateSplitter();
        var parts = splitter.Push(rendered).Concat(splitter.Finish()).ToList();
        var call = (FunctionCallPart)Assert.Single(parts);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Rome", call.Args!.Value.GetProperty("city").GetString());
    }
}
