using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Castor.Storage.Caches;

/// <summary>
/// KV snapshots of cached contents under <c>{data}/caches/{project}/{id}.kv</c>, beside the uploaded files. A file is
/// written to a temporary name, flushed to the disk and then renamed into place, so a crash mid-write leaves at most a
/// temporary file (removed on the next write or sweep), never a half snapshot under the real name; and every read checks
/// the header and a SHA-256 over the whole file, so a damaged file is treated as missing (and recomputed) rather than
/// restored. Layout: magic, identity (UTF-8, length-prefixed), token count and tokens, state length and state, checksum.
/// </summary>
public sealed class SnapshotFileStore(string root)
{
    private static readonly byte[] Magic = "CASTORKV1\n"u8.ToArray();
    private const string Extension = ".kv";
    private const string TempExtension = ".tmp";

    public string Root { get; } = Path.GetFullPath(root);

    public string PathOf(string projectId, string id) => Path.Combine(Root, projectId, id + Extension);

    /// <summary>Writes (or replaces) a snapshot atomically; returns the bytes written.</summary>
    public async Task<long> WriteAsync(string projectId, string id, string identity, IReadOnlyList<int> tokens, byte[] state,
        CancellationToken cancellationToken = default)
    {
        var path = PathOf(projectId, id);
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(Root)) PrivateFiles.CreateFolder(Root);
        if (!Directory.Exists(folder)) PrivateFiles.CreateFolder(folder);
        var temp = path + "." + Guid.NewGuid().ToString("N") + TempExtension;
        var header = Header(identity, tokens, state.Length);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var stream = new FileStream(temp, PrivateFiles.Options(FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous)))
            {
                hash.AppendData(header);
                hash.AppendData(state);
                await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync(state, cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync(hash.GetHashAndReset(), cancellationToken).ConfigureAwait(false);
                // On the disk before the rename: after a crash the name holds the whole snapshot or the old one.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            return header.Length + state.LongLength + SHA256.HashSizeInBytes;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// The verified snapshot, or null when there is none or it is damaged (wrong magic, truncated, checksum mismatch).
    /// The file is read once, hashed on the way, into one array for the state (snapshots are tens of MiB: a restart's
    /// first use of a cache waits for this read).
    /// </summary>
    public async Task<SnapshotFile?> ReadAsync(string projectId, string id, CancellationToken cancellationToken = default)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(PathOf(projectId, id), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await ReadAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException)
            {
                return null;
            }
        }
    }

    private static async Task<SnapshotFile?> ReadAsync(FileStream stream, CancellationToken cancellationToken)
    {
        var length = stream.Length;
        if (length < Magic.Length + 12 + SHA256.HashSizeInBytes) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        async Task<byte[]> Next(long count)
        {
            if (count < 0 || count > length - stream.Position - SHA256.HashSizeInBytes) throw new EndOfStreamException();
            var bytes = new byte[count];
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            hash.AppendData(bytes);
            return bytes;
        }

        if (!(await Next(Magic.Length).ConfigureAwait(false)).AsSpan().SequenceEqual(Magic)) return null;
        var identityLength = BinaryPrimitives.ReadInt32LittleEndian(await Next(4).ConfigureAwait(false));
        var identity = Encoding.UTF8.GetString(await Next(identityLength).ConfigureAwait(false));
        var tokenCount = BinaryPrimitives.ReadInt32LittleEndian(await Next(4).ConfigureAwait(false));
        var tokenBytes = await Next(4L * tokenCount).ConfigureAwait(false);
        var tokens = new int[tokenCount];
        for (var i = 0; i < tokenCount; i++) tokens[i] = BinaryPrimitives.ReadInt32LittleEndian(tokenBytes.AsSpan(4 * i));
        var stateLength = BinaryPrimitives.ReadInt32LittleEndian(await Next(4).ConfigureAwait(false));
        if (stateLength != length - stream.Position - SHA256.HashSizeInBytes) return null;
        var state = await Next(stateLength).ConfigureAwait(false);
        var checksum = new byte[SHA256.HashSizeInBytes];
        await stream.ReadExactlyAsync(checksum, cancellationToken).ConfigureAwait(false);
        return hash.GetHashAndReset().AsSpan().SequenceEqual(checksum) ? new SnapshotFile(identity, tokens, state) : null;
    }

    public void Delete(string projectId, string id) => TryDelete(PathOf(projectId, id));

    /// <summary>Every snapshot file as (project, id), and leftover temporary files (a crash mid-write), for the sweeper.</summary>
    public IEnumerable<(string ProjectId, string Id, string Path, bool Temporary)> Enumerate()
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var folder in Directory.EnumerateDirectories(Root))
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                var name = Path.GetFileName(file);
                if (name.EndsWith(TempExtension, StringComparison.Ordinal))
                    yield return (Path.GetFileName(folder), name, file, true);
                else if (name.EndsWith(Extension, StringComparison.Ordinal))
                    yield return (Path.GetFileName(folder), name[..^Extension.Length], file, false);
            }
    }

    private static byte[] Header(string identity, IReadOnlyList<int> tokens, int stateLength)
    {
        var identityBytes = Encoding.UTF8.GetBytes(identity);
        var header = new byte[Magic.Length + 4 + identityBytes.Length + 4 + 4 * tokens.Count + 4];
        Magic.CopyTo(header, 0);
        var at = Magic.Length;
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(at), identityBytes.Length);
        at += 4;
        identityBytes.CopyTo(header, at);
        at += identityBytes.Length;
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(at), tokens.Count);
        at += 4;
        foreach (var token in tokens)
        {
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(at), token);
            at += 4;
        }
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(at), stateLength);
        return header;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
