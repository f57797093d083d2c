namespace Castor.Engine.Models;

/// <summary>Finds GGUF files in the folders and files the user named. A model's id is its file name without extension, lowercased.</summary>
public static class GgufDiscovery
{
    public static IReadOnlyList<(string Id, string Path)> Find(IEnumerable<string> locations, Action<string>? warn = null)
    {
        var found = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var location in locations)
        {
            IEnumerable<string> files;
            if (File.Exists(location))
                files = [location];
            else if (Directory.Exists(location))
                files = Directory.EnumerateFiles(location, "*.gguf", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal);
            else
            {
                warn?.Invoke($"Model location '{location}' does not exist.");
                continue;
            }

            foreach (var file in files)
            {
                if (!file.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                {
                    warn?.Invoke($"'{file}' is not a .gguf file; skipped.");
                    continue;
                }
                // A projector serves the model it is paired with; it is never a model of its own.
                if (IsProjector(file)) continue;
                var id = IdFor(file);
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

    /// <summary>A multimodal projector: named <c>mmproj…</c>, or a GGUF of the <c>clip</c> architecture.</summary>
    public static bool IsProjector(string path)
    {
        if (Path.GetFileName(path).StartsWith("mmproj", StringComparison.OrdinalIgnoreCase)) return true;
        try
        {
            return Media.GgufStrings.Read(path, "general.architecture").GetValueOrDefault("general.architecture") == "clip";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static string IdFor(string path) => Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
}
