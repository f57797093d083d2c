using System.Text.RegularExpressions;

namespace Castor.Hub;

/// <summary>
/// What <c>castor pull</c> was asked for: a repository (with a quantization to pick, or one file in it), on a revision,
/// and the id the model gets once pulled.
/// </summary>
/// <param name="Repository">The hub repository, <c>owner/name</c>.</param>
/// <param name="Quantization">The quantization tag to pick (Q4_K_M, Q8_0, …); null: the default preference.</param>
/// <param name="File">One file of the repository (a path inside it); null: pick by quantization.</param>
/// <param name="Id">The model id: a short name, or derived from the repository or file name.</param>
/// <param name="Revision">A branch, tag or commit; <c>main</c> unless the source says otherwise.</param>
public sealed partial record ModelSource(string Repository, string? Quantization, string? File, string Id, string Revision = "main")
{
    /// <summary>The quantization llama.cpp's <c>-hf</c> and Ollama pick when none is named.</summary>
    public const string DefaultQuantization = "Q4_K_M";

    /// <summary>
    /// Reads <c>hf.co/{owner}/{repo}:{quant}</c>, <c>{owner}/{repo}:{quant}</c> (the quantization is optional),
    /// <c>hf.co/{owner}/{repo}/{file}.gguf</c>, or a built-in short name (<c>gemma-3-4b-it</c>, optionally <c>:{quant}</c>).
    /// <c>huggingface.co/</c> and <c>https://</c> prefixes are accepted; <c>@{revision}</c> after the repository picks a revision.
    /// </summary>
    public static ModelSource Parse(string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        var text = source.Trim();
        foreach (var scheme in (string[])["https://", "http://"])
            if (text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) text = text[scheme.Length..];
        var fromHub = false;
        foreach (var host in (string[])["hf.co/", "huggingface.co/"])
        {
            if (!text.StartsWith(host, StringComparison.OrdinalIgnoreCase)) continue;
            text = text[host.Length..];
            fromHub = true;
            break;
        }

        string? quantization = null;
        var colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            quantization = text[(colon + 1)..].Trim();
            text = text[..colon];
            if (quantization.Length == 0 || !QuantizationTag().IsMatch(quantization))
                throw new ArgumentException($"'{source}': '{quantization}' is not a quantization tag such as Q4_K_M or Q8_0.");
        }

        var segments = text.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 1 && !fromHub)
        {
            var known = KnownModels.Find(segments[0]) ?? throw new ArgumentException(
                $"'{source}' is not a model castor knows by name. Name a repository (owner/repo or hf.co/owner/repo:Q4_K_M) " +
                $"or one of: {string.Join(", ", KnownModels.All.Select(m => m.Id))}.");
            var quant = quantization ?? known.Quantization;
            var id = string.Equals(quant, known.Quantization, StringComparison.OrdinalIgnoreCase) ? known.Id : $"{known.Id}-{quant.ToLowerInvariant()}";
            return new ModelSource(known.Repository, quant, null, id);
        }
        if (segments.Length < 2)
            throw new ArgumentException($"'{source}' names no repository; write owner/repo, hf.co/owner/repo:Q4_K_M or hf.co/owner/repo/file.gguf.");

        var revision = "main";
        var repoName = segments[1];
        var at = repoName.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            revision = repoName[(at + 1)..];
            repoName = repoName[..at];
        }
        foreach (var part in (string[])[segments[0], repoName])
            if (!RepositoryPart().IsMatch(part))
                throw new ArgumentException($"'{source}': '{part}' is not a valid Hugging Face owner or repository name.");
        var repository = $"{segments[0]}/{repoName}";

        if (segments.Length > 2)
        {
            if (quantization is not null)
                throw new ArgumentException($"'{source}' names a file and a quantization; name one of them.");
            var file = string.Join('/', segments[2..]);
            if (!file.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || segments[2..].Any(s => s is "." or ".."))
                throw new ArgumentException($"'{source}': '{file}' is not a .gguf file of the repository.");
            return new ModelSource(repository, null, file, IdForFile(file), revision);
        }
        return new ModelSource(repository, quantization, null, IdForRepository(repoName, quantization), revision);
    }

    /// <summary>
    /// <c>unsloth/Qwen3-1.7B-GGUF</c> → <c>qwen3-1.7b</c>: the repository's name without its GGUF suffix, lowercased,
    /// so a repository of a Gemini API model (<c>gemma-3-4b-it-GGUF</c>) gets that model's API name. A quantization other
    /// than the default is part of the id, so two quantizations of one model can sit side by side.
    /// </summary>
    internal static string IdForRepository(string repositoryName, string? quantization)
    {
        var name = repositoryName;
        foreach (var suffix in (string[])["-GGUF", "_GGUF", ".GGUF", "-GGUFs"])
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && name.Length > suffix.Length) name = name[..^suffix.Length];
        var id = name.ToLowerInvariant();
        if (quantization is not null && !string.Equals(quantization, DefaultQuantization, StringComparison.OrdinalIgnoreCase))
            id += "-" + quantization.ToLowerInvariant();
        return id;
    }

    /// <summary>One file's id is its name without <c>.gguf</c> (and without a split's part suffix), lowercased, as for any file in the models folder.</summary>
    internal static string IdForFile(string file)
    {
        var name = Path.GetFileNameWithoutExtension(file.Replace('\\', '/').Split('/')[^1]);
        var split = SplitPart().Match(name + ".gguf");
        if (split.Success) name = split.Groups["stem"].Value;
        return name.ToLowerInvariant();
    }

    public override string ToString() =>
        File is not null ? $"{Repository}/{File}" : $"{Repository}:{Quantization ?? DefaultQuantization}";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")]
    private static partial Regex QuantizationTag();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")]
    private static partial Regex RepositoryPart();

    [GeneratedRegex(@"^(?<stem>.+)-(?<part>\d{5})-of-(?<count>\d{5})\.gguf$", RegexOptions.IgnoreCase)]
    internal static partial Regex SplitPart();
}
