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

    public static string IdFor(string path) => Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
}
