using Castor.Engine.Models;
using Castor.Hub;
using Castor.Server;

namespace Castor.Cli;

/// <summary>A model the server would load from the configured locations, with what <c>castor models</c> shows about it.</summary>
internal sealed record InstalledModel(string Id, string Path, string? Folder, IReadOnlyList<string> Files, string? Projector, PullManifest? Manifest)
{
    public long Bytes => Files.Sum(GgufDiscovery.FileSize);

    /// <summary>Every model in the locations, as the server discovers them (pulled folders, loose files, split parts).</summary>
    public static IReadOnlyList<InstalledModel> Find(IReadOnlyList<string> locations)
    {
        var roots = locations.Where(Directory.Exists).Select(l => System.IO.Path.GetFullPath(l).TrimEnd(System.IO.Path.DirectorySeparatorChar)).ToHashSet(StringComparer.Ordinal);
        var models = new List<InstalledModel>();
        foreach (var (id, path) in GgufDiscovery.Find(locations))
        {
            var directory = System.IO.Path.GetDirectoryName(path)!;
            // A model in a subfolder of a models folder owns that folder (castor pull's layout); a loose file owns only itself and its split parts.
            var ownsFolder = roots.Contains(System.IO.Path.GetDirectoryName(directory) ?? "") && !roots.Contains(directory);
            var files = ownsFolder
                ? Directory.EnumerateFiles(directory, "*.gguf").Order(StringComparer.Ordinal).ToList()
                : SplitParts(path);
            var projector = ownsFolder ? files.FirstOrDefault(GgufDiscovery.IsProjector) : null;
            models.Add(new InstalledModel(id, path, ownsFolder ? directory : null, files, projector, ownsFolder ? PullManifest.Read(directory) : null));
        }
        return models;
    }

    public IReadOnlyList<KeyValuePair<string, string>> Metadata() => GgufMetadata.Read(Path);

    /// <summary>The quantization: as pulled, else from the GGUF's <c>general.file_type</c>.</summary>
    public string? Quantization(IReadOnlyList<KeyValuePair<string, string>> metadata) =>
        Manifest?.Quantization ?? GgufMetadata.FileTypeName(Value(metadata, "general.file_type"));

    public static string? ContextLength(IReadOnlyList<KeyValuePair<string, string>> metadata) =>
        Value(metadata, $"{Value(metadata, "general.architecture")}.context_length");

    public static string? Value(IReadOnlyList<KeyValuePair<string, string>> metadata, string key) =>
        metadata.FirstOrDefault(e => e.Key == key).Value;

    /// <summary>Aliases configured for it (Aliases, ModelSettings:{id}:Aliases).</summary>
    public IReadOnlyList<string> Aliases(CastorOptions options) =>
        options.Aliases.Where(a => string.Equals(a.Value.Replace("models/", ""), Id, StringComparison.OrdinalIgnoreCase)).Select(a => a.Key)
            .Concat(options.ModelSettings.GetValueOrDefault(Id)?.Aliases ?? []).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    private static List<string> SplitParts(string path)
    {
        var match = System.Text.RegularExpressions.Regex.Match(System.IO.Path.GetFileName(path), @"^(?<stem>.+)-00001-of-(?<count>\d{5})\.gguf$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (!match.Success) return [path];
        var count = int.Parse(match.Groups["count"].Value);
        var directory = System.IO.Path.GetDirectoryName(path)!;
        return Enumerable.Range(1, count).Select(i => System.IO.Path.Combine(directory, $"{match.Groups["stem"].Value}-{i:00000}-of-{count:00000}.gguf")).Where(File.Exists).ToList();
    }
}
