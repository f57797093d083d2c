using Castor.Engine.Templates;

namespace Castor.UnitTests;

public sealed class TranscriptFallbackTests
{
    [Fact]
    public void A_lone_user_turn_is_passed_through_so_base_models_continue_it()
    {
        Assert.Equal("Once upon a time", new TranscriptFallback().Render([new ChatMessage("user", "Once upon a time")]));
    }

    [Fact]
    public void Conversations_become_a_transcript_ending_with_the_model_cue()
    {
        var text = new TranscriptFallback().Render([
            new ChatMessage("system", "Be kind."),
            new ChatMessage("user", "Hi"),
            new ChatMessage("assistant", "Hello!"),
            new ChatMessage("user", "Story?"),
        ]);
        Assert.Equal("Be kind.\n\nUser: Hi\n\nModel: Hello!\n\nUser: Story?\n\nModel:", text);
    }
}
