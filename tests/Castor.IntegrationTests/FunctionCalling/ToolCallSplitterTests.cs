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
        Assert.Equal("", splitter.Flush());
        Assert.False(splitter.Malformed);
    }

    [Fact]
    public void A_call_cut_off_by_the_token_limit_is_malformed()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        splitter.Push("<tool_call>{\"name\": \"get_we");
        Assert.StartsWith("<tool_call>", splitter.Flush());
        Assert.True(splitter.Malformed);
    }

    [Fact]
    public void Text_that_only_looks_like_the_start_of_a_tag_is_released()
    {
        var splitter = ToolCallFormat.Hermes.CreateSplitter();
        Assert.Equal("a ", splitter.Push("a <to").Text);
        Assert.Equal("<tom> b", splitter.Push("m> b").Text);
    }
}
