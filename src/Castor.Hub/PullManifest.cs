using System.Text.Json;
using System.Text.Json.Serialization;

namespace Castor.Hub;

/// <summary>
/// <c>castor-model.json</c> in a pulled model's folder: where it came from and each file's verified SHA-256, so a
/// repeated pull need not hash gigabytes again and <c>castor models</c> can say what a model is.
/// </summary>
public sealed record PullManifest
{
    public const string FileName = "castor-model.json";

    public required string Id { get; init; }
    public required string Source { get; init; }
    public required string Repository { get; init; }
    public required string Revision { get; init; }
    public string? Quantization { get; init; }
    public required IReadOnlyList<PullManifestFile> Files { get; init; }
    public string? Projector { get; init; }
    public DateTimeOffset PulledAt { get; init; }

    public static PullManifest? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), PullManifestJson.Default.PullManifest);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Written beside the files and renamed into place, so a reader never sees half a manifest.</summary>
    public void Write(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var temporary = path + ".partial";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, PullManifestJson.Default.PullManifest));
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>One file of a pulled model as verified.</summary>
public sealed record PullManifestFile(string Name, string Path, long Size, string? Sha256);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PullManifest))]
internal sealed partial class PullManifestJson : JsonSerializerContext;
