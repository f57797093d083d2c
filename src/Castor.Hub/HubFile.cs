namespace Castor.Hub;

/// <summary>One file of a hub repository as its tree listing reports it.</summary>
/// <param name="Path">The path inside the repository.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Sha256">The LFS object's SHA-256 in lowercase hex; null for a file stored in git itself (small files).</param>
public sealed record HubFile(string Path, long Size, string? Sha256)
{
    /// <summary>The file name without the folders above it.</summary>
    public string Name => Path.Split('/')[^1];
}
