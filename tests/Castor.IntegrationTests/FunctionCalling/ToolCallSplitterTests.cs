using Castor.Application.Tools;

namespace Castor.IntegrationTests.FunctionCalling;

public sealed class ToolCallSplitterTests
{
    [Fact]
    public void Text_and_calls_are_separated_even_when_tags_are_split_across_chunks()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        var (t1, c1) = splitter.Push("Let me check. <tool_");
        var (t2, c2) = splitter.Push("call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>{\"name\":\"get_time\",\"arguments\":{}}</tool_call>");
        // Streaming cannot yet know the space is followed by a call, so it goes out with the text.
        Assert.Equal("Let me check. ", t1);
        Assert.Empty(c1);
        Assert.Equal("", t2);
        Assert.Equal(["get_weather", "get_time"], c2.Select(c => c.Name));
        Assert.Equal("Paris", c2[0].Args!.Value.GetProperty("city").GetString());
        Assert.NotEqual(c2[0].Id, c2[1].Id);
        Assert.Equal("", splitter.Finish().Text);
        Assert.False(splitter.Malformed);
    }

    [Fact]
    public void A_call_cut_off_by_the_token_limit_is_malformed()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        splitter.Push("<tool_call>{\"name\": \"get_we");
        Assert.StartsWith("<tool_call>", splitter.Finish().Text);
        Assert.True(splitter.Malformed);
    }

    [Fact]
    public void Text_that_only_looks_like_the_start_of_a_tag_is_released()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        Assert.Equal("a ", splitter.Push("a <to").Text);
        Assert.Equal("<tom> b", splitter.Push("m> b").Text);
    }

    [Fact]
    public void Mistral_calls_are_an_array_after_the_marker_and_end_with_the_output()
    {
        var splitter = ToolCallFormat.Mistral.CreateSplitter();
        var (text, calls) = splitter.Push("[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"arguments\": {}}]");
        Assert.Equal("", text);
        Assert.Empty(calls);
        var (rest, last) = splitter.Finish();
        Assert.Equal("", rest);
        Assert.Equal(["a", "b"], last.Select(c => c.Name));
        Assert.Equal(1, last[0].Args!.Value.GetProperty("x").GetInt32());
    }

    [Fact]
    public void Llama3_calls_are_a_json_object_with_parameters()
    {
        var splitter = ToolCallFormat.Llama3.CreateSplitter();
        splitter.Push("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
        var (_, calls) = splitter.Finish();
        Assert.Equal("Oslo", Assert.Single(calls).Args!.Value.GetProperty("city").GetString());
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
        var rendered = format.RenderCall(new Castor.Application.Generation.FunctionCallPart("get_weather", args.RootElement.Clone(), "call_1"));
        var splitter = format.CreateSplitter();
        var (_, calls) = splitter.Push(rendered);
        var (_, last) = splitter.Finish();
        var call = Assert.Single(calls.Concat(last));
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Rome", call.Args!.Value.GetProperty("city").GetString());
    }
}
