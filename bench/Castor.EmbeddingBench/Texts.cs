namespace Castor.EmbeddingBench;

/// <summary>Short, distinct English sentences (8 to 14 words), the same on every run.</summary>
public static class Texts
{
    private static readonly string[] Subjects = ["The old cat", "A young engineer", "My neighbour's dog", "The small company", "A tired runner", "The city council", "Our new teacher", "A curious child"];
    private static readonly string[] Verbs = ["quietly watched", "carefully repaired", "suddenly found", "slowly explained", "happily painted", "nervously opened", "proudly showed", "barely noticed"];
    private static readonly string[] Objects = ["the broken bicycle", "a letter from home", "the quarterly report", "an unusual red stone", "the garden gate", "a map of the harbour", "the last train ticket", "a basket of apples"];
    private static readonly string[] Endings = ["before the storm.", "after lunch on Sunday.", "near the river bank.", "during the long meeting.", "in the early morning.", "at the edge of town."];

    public static string[] Make(int count) =>
        Enumerable.Range(0, count).Select(i =>
            $"{Subjects[i % Subjects.Length]} {Verbs[i / Subjects.Length % Verbs.Length]} {Objects[(i * 3 + i / 64) % Objects.Length]} {Endings[(i * 5 + i / 7) % Endings.Length]}")
        .Select((s, i) => i < 384 ? s : $"{s} ({i})")
        .ToArray();
}
