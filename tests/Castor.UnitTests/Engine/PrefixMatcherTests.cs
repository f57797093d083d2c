using Castor.Engine.Scheduling;

namespace Castor.UnitTests.Engine;

public sealed class PrefixMatcherTests
{
    private static EnginePrompt Prompt(params PromptChunk[] chunks) => new(chunks);

    private static TokenRun Tokens(params int[] tokens) => new(tokens);

    private static MediaPlaceholder Image(ulong hash, int positions = 4) => new("image/png", hash, positions);

    private static int Match(EnginePrompt resident, EnginePrompt prompt) =>
        PrefixMatcher.CommonPrefix(PrefixMatcher.Keys(resident), prompt, PrefixMatcher.Keys(prompt));

    [Fact]
    public void Token_prompts_match_up_to_the_first_different_token()
    {
        Assert.Equal(3, Match(Prompt(Tokens(1, 2, 3, 4)), Prompt(Tokens(1, 2, 3, 9, 9))));
        Assert.Equal(0, Match(Prompt(Tokens(5)), Prompt(Tokens(1, 2))));
        Assert.Equal(2, Match(Prompt(Tokens(1, 2)), Prompt(Tokens(1, 2, 3))));
    }

    [Fact]
    public void How_tokens_are_split_into_runs_does_not_matter()
    {
        Assert.Equal(5, Match(Prompt(Tokens(1, 2), Tokens(3, 4, 5)), Prompt(Tokens(1, 2, 3, 4, 5, 6))));
    }

    [Fact]
    public void The_same_media_item_matches_whole_and_matching_goes_on_after_it()
    {
        var resident = Prompt(Tokens(1, 2), Image(0xABCD), Tokens(7, 8));
        var prompt = Prompt(Tokens(1, 2), Image(0xABCD), Tokens(7, 9));
        Assert.Equal(2 + 4 + 1, Match(resident, prompt));
    }

    [Fact]
    public void A_different_media_item_stops_the_match_where_it_starts()
    {
        var resident = Prompt(Tokens(1, 2), Image(0xABCD), Tokens(7, 8));
        var prompt = Prompt(Tokens(1, 2), Image(0xABCE), Tokens(7, 8));
        Assert.Equal(2, Match(resident, prompt));
    }

    [Fact]
    public void A_media_item_resident_only_in_part_is_not_reused_in_part()
    {
        // The slot holds the first two positions of the image (its request was cut short there).
        var full = PrefixMatcher.Keys(Prompt(Tokens(1, 2), Image(0x1234)));
        var resident = full.AsSpan(0, 4);
        var prompt = Prompt(Tokens(1, 2), Image(0x1234), Tokens(3));
        Assert.Equal(2, PrefixMatcher.CommonPrefix(resident, prompt, PrefixMatcher.Keys(prompt)));
    }

    [Fact]
    public void A_media_item_never_matches_text_tokens()
    {
        var image = Image(0, positions: 3);
        var keys = PrefixMatcher.Keys(Prompt(image));
        Assert.All(keys, k => Assert.True(k < 0));
        Assert.Equal(0, Match(Prompt(Tokens(0, 1, 2)), Prompt(image)));
    }

    [Fact]
    public void The_same_hash_with_another_length_is_another_item()
    {
        Assert.Equal(1, Match(Prompt(Tokens(1), Image(42, positions: 4)), Prompt(Tokens(1), Image(42, positions: 6))));
    }

    [Fact]
    public void A_flat_token_prompt_is_one_run()
    {
        var prompt = EnginePrompt.FromTokens([4, 5, 6]);
        Assert.Equal(3, prompt.Length);
        Assert.False(prompt.HasMedia);
        Assert.Equal([4L, 5L, 6L], PrefixMatcher.Keys(prompt));
    }
}
