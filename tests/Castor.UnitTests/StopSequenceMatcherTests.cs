using Castor.Engine.Text;

namespace Castor.UnitTests;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void Text_without_stop_sequences_passes_straight_through()
    {
        var m = new StopSequenceMatcher([]);
        Assert.Equal("hello", m.Push("hello"));
        Assert.False(m.Stopped);
    }

    [Fact]
    public void A_stop_sequence_split_across_tokens_never_leaks()
    {
        var m = new StopSequenceMatcher(["END"]);
        Assert.Equal("abc ", m.Push("abc E"));
        Assert.Equal("", m.Push("N"));
        Assert.Equal("", m.Push("D and more"));
        Assert.True(m.Stopped);
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void Held_back_text_is_released_when_it_turns_out_not_to_be_a_stop()
    {
        var m = new StopSequenceMatcher(["END"]);
        Assert.Equal("x", m.Push("xE"));
        Assert.Equal("ENx", m.Push("Nx"));
        Assert.False(m.Stopped);
    }

    [Fact]
    public void Held_back_text_is_flushed_at_the_end()
    {
        var m = new StopSequenceMatcher(["END"]);
        Assert.Equal("abc", m.Push("abcEN"));
        Assert.Equal("EN", m.Flush());
    }

    [Fact]
    public void The_earliest_of_several_stop_sequences_wins()
    {
        var m = new StopSequenceMatcher(["world", "lo"]);
        Assert.Equal("hel", m.Push("hello world"));
        Assert.True(m.Stopped);
    }

    [Fact]
    public void Nothing_is_emitted_after_a_stop()
    {
        var m = new StopSequenceMatcher(["."]);
        Assert.Equal("One", m.Push("One. Two"));
        Assert.Equal("", m.Push("Three"));
    }
}
