using System.Text;

namespace Castor.Bench;

/// <summary>Deterministic English-looking text for prompts (story words, so small story vocabularies tokenize it in words).</summary>
public static class Prompts
{
    private static readonly string[] Words =
    [
        "the", "a", "little", "girl", "boy", "dog", "cat", "bird", "tree", "house", "garden", "park", "ball", "toy",
        "friend", "mom", "dad", "sun", "sky", "water", "flower", "apple", "cake", "box", "car", "boat", "book", "door",
        "happy", "sad", "big", "small", "red", "blue", "green", "bright", "soft", "kind", "brave", "funny", "quiet",
        "ran", "jumped", "played", "saw", "found", "wanted", "liked", "said", "looked", "smiled", "laughed", "helped",
        "went", "came", "gave", "took", "made", "had", "was", "were", "is", "and", "but", "so", "then", "with", "to",
        "in", "on", "under", "near", "day", "night", "morning", "time", "home", "school", "river", "hill", "forest",
        "every", "one", "two", "three", "very", "too", "also", "again", "together", "slowly", "fast", "loud", "new",
        "old", "warm", "cold", "share", "learn", "sing", "draw", "read", "walk", "swim", "climb", "build", "open",
    ];

    /// <summary>Distinct capitalised openers, so prompts can differ from their first token.</summary>
    public static readonly string[] Openers =
    [
        "Zebra", "Apple", "Quiet", "Maple", "Ocean", "Violet", "Jolly", "Kettle", "Lemon", "Nutmeg", "Pebble", "Robin",
        "Sunny", "Tiger", "Umbra", "Willow", "Xylo", "Yellow", "Hazel", "Ginger", "Frost", "Ember", "Daisy", "Cobalt",
        "Breeze", "Amber", "Iris", "Juniper", "Kiwi", "Lotus", "Mango", "Nova", "Olive", "Poppy", "Quartz", "Rusty",
        "Sage", "Tulip", "Velvet", "Wren", "Yarrow", "Zinnia", "Acorn", "Bramble", "Cedar", "Dune", "Echo", "Fern",
    ];

    public static string Sentences(int words, int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder();
        var inSentence = 0;
        for (var i = 0; i < words; i++)
        {
            var word = Words[rng.Next(Words.Length)];
            if (inSentence == 0)
            {
                if (sb.Length > 0) sb.Append(' ');
                sb.Append(char.ToUpperInvariant(word[0])).Append(word, 1, word.Length - 1);
            }
            else
            {
                sb.Append(' ').Append(word);
            }
            inSentence++;
            if (inSentence >= 6 + rng.Next(8) || i == words - 1)
            {
                sb.Append('.');
                inSentence = 0;
            }
        }
        return sb.ToString();
    }

    /// <summary>The short prompt of the decode benchmarks (a lone user turn: the story model simply continues it).</summary>
    public static string Story(int stream) => stream == 0
        ? "Once upon a time, there was a little girl named Lily."
        : $"Once upon a time, there was a little {Words[(stream * 7) % Words.Length]} who {Sentences(6, stream).ToLowerInvariant()}";
}
