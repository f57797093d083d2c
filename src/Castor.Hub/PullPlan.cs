using System.Text.RegularExpressions;

namespace Castor.Hub;

/// <summary>The files one pull downloads: the model (one file, or every part of a split GGUF in order) and its projector, if the repository has one.</summary>
public sealed record PullPlan(IReadOnlyList<HubFile> ModelFiles, HubFile? Projector, string? Quantization)
{
    /// <summary>Quantizations tried in order when none is named: llama.cpp's <c>-hf</c> default first, then the common smaller and larger ones.</summary>
    private static readonly string[] Preference = [ModelSource.DefaultQuantization, "Q4_0", "Q4_K_S", "Q5_K_M", "Q8_0", "Q6_K"];

    /// <summary>Projector precisions in order of preference: F16 is what llama.cpp's own repositories publish and what mtmd runs fastest on the CPU.</summary>
    private static readonly string[] ProjectorPreference = ["f16", "bf16", "f32", "q8_0"];

    public IEnumerable<HubFile> All => Projector is null ? ModelFiles : ModelFiles.Append(Projector);

    public long TotalBytes => All.Sum(f => f.Size);

    /// <summary>Picks the files for a source from the repository's listing, or explains what the repository has instead.</summary>
    public static PullPlan Choose(ModelSource source, IReadOnlyList<HubFile> files)
    {
        var ggufs = files.Where(f => f.Name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).ToList();
        var projectors = ggufs.Where(IsProjector).ToList();
        var models = ggufs.Where(f => !IsProjector(f)).ToList();

        if (source.File is not null)
        {
            var file = ggufs.FirstOrDefault(f => string.Equals(f.Path, source.File, StringComparison.Ordinal))
                       ?? ggufs.FirstOrDefault(f => string.Equals(f.Path, source.File, StringComparison.OrdinalIgnoreCase))
                       ?? throw new PullException(PullFailure.NotFound,
                           $"{source.Repository} has no file {source.File}. Its GGUF files: {Describe(ggufs)}.");
            // One named file is what was asked for; its projector comes along only when the file is a model.
            return new PullPlan(WithSplitParts(file, models, source), IsProjector(file) ? null : PickProjector(projectors), QuantizationOf(file.Name));
        }

        if (models.Count == 0)
            throw new PullException(PullFailure.NoMatchingFile, $"{source.Repository} has no GGUF model files{(ggufs.Count > 0 ? $" (only projectors: {Describe(ggufs)})" : "")}; castor runs GGUF models.");

        HubFile? chosen = null;
        string? quantization = null;
        if (source.Quantization is { } asked)
        {
            chosen = models.Where(f => Carries(f.Path, asked)).OrderBy(f => PartNumber(f.Name)).FirstOrDefault();
            quantization = asked;
            if (chosen is null)
                throw new PullException(PullFailure.NoMatchingFile,
                    $"{source.Repository} has no GGUF file for the quantization {asked}. It has: {string.Join(", ", Quantizations(models))}. " +
                    $"Pull one of those with {source.Repository}:<quantization>.");
        }
        else
        {
            foreach (var preferred in Preference)
            {
                chosen = models.Where(f => Carries(f.Path, preferred)).OrderBy(f => PartNumber(f.Name)).FirstOrDefault();
                if (chosen is null) continue;
                quantization = preferred;
                break;
            }
            if (chosen is null)
            {
                var stems = models.Select(f => SplitStem(f.Path)).Distinct().ToList();
                if (stems.Count != 1)
                    throw new PullException(PullFailure.NoMatchingFile,
                        $"{source.Repository} has several GGUF models and none is {ModelSource.DefaultQuantization}: {string.Join(", ", Quantizations(models))}. " +
                        $"Name one with {source.Repository}:<quantization>.");
                chosen = models.OrderBy(f => PartNumber(f.Name)).First();
                quantization = QuantizationOf(chosen.Name);
            }
        }
        return new PullPlan(WithSplitParts(chosen, models, source), PickProjector(projectors), quantization);
    }

    /// <summary><c>mmproj-model-f16.gguf</c>, <c>mmproj-F16.gguf</c>, <c>gemma-3-4b-it.BF16-mmproj.gguf</c>: a multimodal projector, not a model of its own.</summary>
    public static bool IsProjector(HubFile file) => file.Name.Contains("mmproj", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a file name carries the tag as a whole word: Q4_K is not found in Q4_K_M.</summary>
    internal static bool Carries(string path, string quantization) =>
        Regex.IsMatch(path, $@"(?<![A-Za-z0-9]){Regex.Escape(quantization)}(?=[.\-/]|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static IReadOnlyList<HubFile> WithSplitParts(HubFile chosen, IReadOnlyList<HubFile> candidates, ModelSource source)
    {
        var match = ModelSource.SplitPart().Match(chosen.Name);
        if (!match.Success) return [chosen];
        var folder = chosen.Path[..^chosen.Name.Length];
        var stem = match.Groups["stem"].Value;
        var count = int.Parse(match.Groups["count"].Value);
        var parts = new List<HubFile>();
        for (var i = 1; i <= count; i++)
        {
            var name = $"{folder}{stem}-{i:00000}-of-{count:00000}.gguf";
            parts.Add(candidates.FirstOrDefault(f => string.Equals(f.Path, name, StringComparison.Ordinal))
                      ?? throw new PullException(PullFailure.NoMatchingFile, $"{source.Repository} lists {chosen.Path} but not {name}, so the split model is incomplete there."));
        }
        return parts;
    }

    private static HubFile? PickProjector(IReadOnlyList<HubFile> projectors)
    {
        foreach (var precision in ProjectorPreference)
            if (projectors.FirstOrDefault(p => Carries(p.Name, precision)) is { } preferred) return preferred;
        return projectors.OrderBy(p => p.Path, StringComparer.Ordinal).FirstOrDefault();
    }

    private static int PartNumber(string name) =>
        ModelSource.SplitPart().Match(name) is { Success: true } m ? int.Parse(m.Groups["part"].Value) : 0;

    private static string SplitStem(string path) =>
        ModelSource.SplitPart().Match(path) is { Success: true } m ? m.Groups["stem"].Value : path;

    private static IEnumerable<string> Quantizations(IEnumerable<HubFile> models) =>
        models.Select(f => QuantizationOf(f.Name) ?? f.Path).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase);

    /// <summary>The last name segment that looks like a llama.cpp quantization tag (Q4_K_M, IQ2_XXS, F16, BF16, …).</summary>
    internal static string? QuantizationOf(string fileName)
    {
        var stem = SplitStem(fileName);
        if (stem.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) stem = stem[..^5];
        var tags = Regex.Matches(stem, @"(?<![A-Za-z0-9])(?:UD-)?(?:I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32|MXFP4(?:_MOE)?)(?![A-Za-z0-9])", RegexOptions.IgnoreCase);
        return tags.Count == 0 ? null : tags[^1].Value.ToUpperInvariant();
    }

    private static string Describe(IEnumerable<HubFile> files) => string.Join(", ", files.Select(f => f.Path));
}
