using System.Text.RegularExpressions;

namespace Castor.Engine.Models;

/// <summary>
/// Finds GGUF files in the folders and files the user named. A model's id is its file name without extension, lowercased.
/// A folder's subfolder that holds one model (as <c>castor pull</c> leaves them: <c>models/{id}/</c> with the hub's file
/// names) is that model, with the subfolder's name as its id. A split model (<c>name-00001-of-00003.gguf</c>) is one model
/// named without the part suffix and loaded from its first part, once every part is there. Projector files
/// (<c>mmproj*.gguf</c>) are never models of their own.
/// </summary>
public static partial class GgufDiscovery
{
    public static IReadOnlyList<(string Id, string Path)> Find(IEnumerable<string> locations, Action<string>? warn = null)
    {
        var found = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var location in locations)
        {
            IEnumerable<(string Id, string Path)> models;
            if (File.Exists(location))
            {
                if (!location.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                {
                    warn?.Invoke($"'{location}' is not a .gguf file; skipped.");
                    continue;
                }
                models = [(IdFor(location), location)];
            }
            else if (Directory.Exists(location))
            {
                models = ModelsIn(location, idFromFolder: null, warn)
                    .Concat(Directory.EnumerateDirectories(location).Order(StringComparer.Ordinal)
                        .Where(d => !Path.GetFileName(d).StartsWith('.'))
                        .SelectMany(d => ModelsIn(d, Path.GetFileName(d).ToLowerInvariant(), warn)));
            }
            else
            {
                warn?.Invoke($"Model location '{location}' does not exist.");
                continue;
            }

            foreach (var (id, file) in models)
            {
                if (!seen.Add(id))
                {
                    warn?.Invoke($"A model with id '{id}' was already found; '{file}' is skipped.");
                    continue;
                }
                found.Add((id, Path.GetFullPath(file)));
            }
        }
        return found;
    }

    /// <summary>The models in one folder; with <paramref name="idFromFolder"/>, a folder holding exactly one model gives it the folder's name.</summary>
    private static List<(string Id, string Path)> ModelsIn(string folder, string? idFromFolder, Action<string>? warn)
    {
        var models = new List<(string Id, string Path)>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.gguf", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (!name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || IsProjector(file)) continue;
            var split = SplitPart().Match(name);
            if (split.Success)
            {
                if (int.Parse(split.Groups["part"].Value) != 1) continue;
                var count = int.Parse(split.Groups["count"].Value);
                var missing = Enumerable.Range(2, Math.Max(0, count - 1))
                    .Select(i => Path.Combine(folder, $"{split.Groups["stem"].Value}-{i:00000}-of-{count:00000}.gguf"))
                    .Where(p => !File.Exists(p)).ToList();
                if (missing.Count > 0)
                {
                    warn?.Invoke($"'{file}' is part 1 of {count}, but {missing.Count} part(s) are missing (such as {Path.GetFileName(missing[0])}); skipped.");
                    continue;
                }
            }
            models.Add((IdFor(file), file));
        }
        if (idFromFolder is not null && models.Count == 1) models[0] = (idFromFolder, models[0].Path);
        return models;
    }

    /// <summary>
    /// The projector to pair with the generative model of <paramref name="folder"/>: its one <c>mmproj*.gguf</c> (or
    /// other projector file), as Hugging Face GGUF repositories lay them out; null when there is none or several.
    /// </summary>
    public static string? ProjectorIn(string folder)
    {
        if (!Directory.Exists(folder)) return null;
        var projectors = Directory.EnumerateFiles(folder, "*.gguf", SearchOption.TopDirectoryOnly).Where(IsProjector).Take(2).ToList();
        return projectors.Count == 1 ? Path.GetFullPath(projectors[0]) : null;
    }

    /// <summary>
    /// A model file's size in bytes, through symbolic links (a Hugging Face cache or a hand-made models folder links to
    /// the weights; the link's own length is a few bytes).
    /// </summary>
    public static long FileSize(string path)
    {
        var file = new FileInfo(path);
        return (file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file).Length;
    }

    /// <summary>
    /// A multimodal projector, paired with a model rather than served: named like one (<c>mmproj-model-f16.gguf</c>,
    /// <c>gemma-3-4b-it.BF16-mmproj.gguf</c>), or a GGUF of the <c>clip</c> architecture.
    /// </summary>
    public static bool IsProjector(string path)
    {
        if (Path.GetFileName(path).Contains("mmproj", StringComparison.OrdinalIgnoreCase)) return true;
        try
        {
            return Media.GgufStrings.Read(path, "general.architecture").GetValueOrDefault("general.architecture") == "clip";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The file name without <c>.gguf</c> and without a split model's <c>-00001-of-0000N</c>, lowercased.</summary>
    public static string IdFor(string path)
    {
        var name = Path.GetFileName(path);
        var split = SplitPart().Match(name);
        return (split.Success ? split.Groups["stem"].Value : Path.GetFileNameWithoutExtension(name)).ToLowerInvariant();
    }

    [GeneratedRegex(@"^(?<stem>.+)-(?<part>\d{5})-of-(?<count>\d{5})\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitPart();
}
