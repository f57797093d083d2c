namespace Castor.Hub;

/// <summary>
/// The built-in short names. Each maps to a repository and quantization whose file names were checked on the hub's
/// public file listings (see the README's "Getting models"); the pull itself still lists the repository, so a renamed
/// file fails with the names the repository has rather than a 404.
/// </summary>
public static class KnownModels
{
    /// <summary>
    /// What a first <c>castor serve</c> pulls: Gemma 3 1B instruct at Q4_K_M is 806 MB, answers at several tokens a second
    /// on a laptop CPU, follows instructions, has a chat template llama.cpp knows, and is one of the names the Gemini API
    /// itself lists (<c>models/gemma-3-1b-it</c>).
    /// </summary>
    public const string FirstRunModel = "gemma-3-1b-it";

    public static readonly IReadOnlyList<KnownModel> All =
    [
        new("gemma-3-1b-it", "unsloth/gemma-3-1b-it-GGUF", "Q4_K_M", "Gemma 3 1B instruct, 806 MB; the first-run default"),
        new("gemma-3-4b-it", "ggml-org/gemma-3-4b-it-GGUF", "Q4_K_M", "Gemma 3 4B instruct with its vision projector, 2.5 GB + 851 MB"),
        new("qwen3-0.6b", "Qwen/Qwen3-0.6B-GGUF", "Q8_0", "Qwen3 0.6B (thinking), 639 MB"),
        new("qwen3-1.7b", "Qwen/Qwen3-1.7B-GGUF", "Q8_0", "Qwen3 1.7B (thinking), 1.8 GB"),
        new("embeddinggemma-300m", "ggml-org/embeddinggemma-300M-GGUF", "Q8_0", "EmbeddingGemma 300M, an embedding model, 329 MB"),
    ];

    public static KnownModel? Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Id, name, StringComparison.OrdinalIgnoreCase));
}
