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

    /// <remarks>
    /// Checked on the hub's public pages (repository file listings or model pages): unsloth/gemma-3-1b-it-GGUF lists
    /// gemma-3-1b-it-Q4_K_M.gguf (806 MB); ggml-org/gemma-3-4b-it-GGUF lists gemma-3-4b-it-Q4_K_M.gguf (2.49 GB) and
    /// mmproj-model-f16.gguf (851 MB); ggml-org/Qwen3-0.6B-GGUF publishes Qwen3-0.6B-Q4_0.gguf; ggml-org/Qwen3-1.7B-GGUF
    /// offers Q4_K_M (1.28 GB), Q8_0 and F16; lmstudio-community/granite-embedding-30m-english-GGUF lists
    /// granite-embedding-30m-english-Q8_0.gguf (34.5 MB). No EmbeddingGemma GGUF from a publisher these lists could
    /// confirm was found, so it is pulled by repository name instead.
    /// </remarks>
    public static readonly IReadOnlyList<KnownModel> All =
    [
        new("gemma-3-1b-it", "unsloth/gemma-3-1b-it-GGUF", "Q4_K_M", "Gemma 3 1B instruct, 806 MB; the first-run default"),
        new("gemma-3-4b-it", "ggml-org/gemma-3-4b-it-GGUF", "Q4_K_M", "Gemma 3 4B instruct with its vision projector, 2.5 GB + 851 MB"),
        new("qwen3-0.6b", "ggml-org/Qwen3-0.6B-GGUF", "Q4_0", "Qwen3 0.6B (thinking), the smallest instruct model here"),
        new("qwen3-1.7b", "ggml-org/Qwen3-1.7B-GGUF", "Q4_K_M", "Qwen3 1.7B (thinking), 1.3 GB"),
        new("granite-embedding-30m-english", "lmstudio-community/granite-embedding-30m-english-GGUF", "Q8_0", "IBM Granite embedding 30M (English), an embedding model, 35 MB"),
    ];

    public static KnownModel? Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Id, name, StringComparison.OrdinalIgnoreCase));
}
