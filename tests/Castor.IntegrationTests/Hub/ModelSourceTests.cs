using Castor.Hub;

namespace Castor.IntegrationTests.Hub;

/// <summary>Every form of <c>castor pull SOURCE</c> and the quantization matching behind it.</summary>
public sealed class ModelSourceTests
{
    [Theory]
    [InlineData("hf.co/unsloth/Qwen3-1.7B-GGUF:Q8_0", "unsloth/Qwen3-1.7B-GGUF", "Q8_0", null, "qwen3-1.7b-q8_0")]
    [InlineData("unsloth/Qwen3-1.7B-GGUF:Q4_K_M", "unsloth/Qwen3-1.7B-GGUF", "Q4_K_M", null, "qwen3-1.7b")]
    [InlineData("unsloth/Qwen3-1.7B-GGUF", "unsloth/Qwen3-1.7B-GGUF", null, null, "qwen3-1.7b")]
    [InlineData("https://huggingface.co/ggml-org/gemma-3-4b-it-GGUF", "ggml-org/gemma-3-4b-it-GGUF", null, null, "gemma-3-4b-it")]
    [InlineData("hf.co/ggml-org/gemma-3-4b-it-GGUF/gemma-3-4b-it-Q8_0.gguf", "ggml-org/gemma-3-4b-it-GGUF", null, "gemma-3-4b-it-Q8_0.gguf", "gemma-3-4b-it-q8_0")]
    [InlineData("hf.co/unsloth/big-GGUF/BF16/big-BF16-00001-of-00002.gguf", "unsloth/big-GGUF", null, "BF16/big-BF16-00001-of-00002.gguf", "big-bf16")]
    [InlineData("gemma-3-4b-it", "ggml-org/gemma-3-4b-it-GGUF", "Q4_K_M", null, "gemma-3-4b-it")]
    [InlineData("gemma-3-4b-it:Q8_0", "ggml-org/gemma-3-4b-it-GGUF", "Q8_0", null, "gemma-3-4b-it-q8_0")]
    public void Every_source_form_names_a_repository_a_choice_and_an_id(string text, string repository, string? quantization, string? file, string id)
    {
        var source = ModelSource.Parse(text);

        Assert.Equal(repository, source.Repository);
        Assert.Equal(quantization, source.Quantization);
        Assert.Equal(file, source.File);
        Assert.Equal(id, source.Id);
    }

    [Theory]
    [InlineData("no-such-model")]
    [InlineData("owner/repo/notes.txt")]
    [InlineData("owner/../etc:Q4_K_M")]
    [InlineData("owner/repo:")]
    public void Sources_that_name_nothing_pullable_are_refused(string text) =>
        Assert.Throws<ArgumentException>(() => ModelSource.Parse(text));

    [Theory]
    [InlineData("model-Q4_K_M.gguf", "Q4_K_M", true)]
    [InlineData("model-Q4_K_M.gguf", "Q4_K", false)]
    [InlineData("model-q4_k_m.gguf", "Q4_K_M", true)]
    [InlineData("model.Q8_0.gguf", "Q8_0", true)]
    [InlineData("Q8_0/model-Q8_0-00001-of-00002.gguf", "Q8_0", true)]
    [InlineData("model-UD-Q4_K_XL.gguf", "Q4_K_M", false)]
    public void A_quantization_matches_only_as_a_whole_tag(string path, string quantization, bool matches) =>
        Assert.Equal(matches, PullPlan.Carries(path, quantization));

    [Fact]
    public void Every_built_in_name_parses_to_its_own_id()
    {
        foreach (var known in KnownModels.All)
            Assert.Equal(known.Id, ModelSource.Parse(known.Id).Id);
        Assert.NotNull(KnownModels.Find(KnownModels.FirstRunModel));
    }
}
