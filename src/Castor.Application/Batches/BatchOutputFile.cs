using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Castor.Storage.Batches;
using Castor.Storage.Files;

namespace Castor.Application.Batches;

/// <summary>
/// A file batch's output, streamed: each result's line is appended to this node's part of the output
/// (<see cref="FileContentStore.BatchPartPath"/>) right after the database records the result, so the part only ever
/// holds recorded results, and a crash leaves at most one torn last line. The database stays the commit log: the
/// finalize reconciles the part with it (keeps the longest run of whole lines that are recorded results, each once,
/// cuts the rest, appends every result the part lacks, from the database, in input order), flushes it to disk, renames
/// it to the output file's name, and removes the job's other parts. Results that other nodes (or this node before a
/// restart, under another lease name) recorded reach the file that way, so every key is in it exactly once.
/// </summary>
public sealed class BatchOutputFile(FileContentStore content, string owner) : IDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    // One gate for every job's part: appends are a few hundred bytes, and a finalize must not interleave with an append.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Appends a recorded result's line (without its newline) to this node's part of the job's output.</summary>
    public async Task AppendAsync(string projectId, string batchId, string line, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Opened for each line: nothing stays open for jobs that another node finalizes.
            await using var part = content.OpenBatchPart(projectId, batchId, owner);
            part.Position = part.Length;
            // One write of the whole line, unbuffered: a crash tears at most this line.
            await part.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Reconciles this node's part with the recorded results, flushes it to disk and renames it to
    /// <paramref name="fileId"/>; the job's other parts are removed. Call once the job has no pending request.
    /// </summary>
    public async Task<BatchOutput> FinalizeAsync(StoredBatch job, IBatchDialect dialect, IBatchStore store, string fileId, CancellationToken cancellationToken)
    {
        var kind = BatchKinds.Parse(job.Kind);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Every recorded result's line, by a 128-bit digest (the lines themselves could be gigabytes): how many
            // times each may appear (twice only when two requests have the same key and the same result).
            var expected = new Dictionary<UInt128, int>();
            await foreach (var request in store.ReadRequestsAsync(job.Id, cancellationToken).ConfigureAwait(false))
            {
                if (request.State == BatchRequestState.Pending) continue;
                var digest = Digest(Encoding.UTF8.GetBytes(dialect.OutputLine(kind, request)));
                expected[digest] = expected.GetValueOrDefault(digest) + 1;
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var inPart = new Dictionary<UInt128, int>();
            long streamed = 0, filled = 0, cut;
            long size;
            await using (var part = content.OpenBatchPart(job.ProjectId, job.Id, owner))
            {
                var kept = await KeepRecordedLinesAsync(part, expected, inPart, hash, cancellationToken).ConfigureAwait(false);
                cut = part.Length - kept;
                part.SetLength(kept);
                part.Position = kept;
                foreach (var count in inPart.Values) streamed += count;

                await foreach (var request in store.ReadRequestsAsync(job.Id, cancellationToken).ConfigureAwait(false))
                {
                    if (request.State == BatchRequestState.Pending) continue;
                    var bytes = Encoding.UTF8.GetBytes(dialect.OutputLine(kind, request) + "\n");
                    var digest = Digest(bytes.AsSpan(0, bytes.Length - 1));
                    if (inPart.TryGetValue(digest, out var left) && left > 0)
                    {
                        inPart[digest] = left - 1;
                        continue;
                    }
                    hash.AppendData(bytes);
                    await part.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                    filled++;
                }
                await part.FlushAsync(cancellationToken).ConfigureAwait(false);
                part.Flush(flushToDisk: true);
                size = part.Length;
            }
            content.CommitBatchPart(job.ProjectId, job.Id, owner, fileId);
            // Other nodes' parts (or this node's from before a restart): what they held is in the file now, from the database.
            foreach (var other in content.BatchPartPaths(job.ProjectId, job.Id))
                File.Delete(other);
            return new BatchOutput(size, hash.GetCurrentHash(), streamed, filled, cut);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Reads the part from its start and returns where the longest run of whole lines ends in which each line is a
    /// recorded result not seen before in the run; those lines are counted in <paramref name="inPart"/> and hashed.
    /// A torn last line (no newline), a line the database does not hold, or a repeat ends the run.
    /// </summary>
    private static async Task<long> KeepRecordedLinesAsync(FileStream part, Dictionary<UInt128, int> expected, Dictionary<UInt128, int> inPart,
        IncrementalHash hash, CancellationToken cancellationToken)
    {
        part.Position = 0;
        var buffer = new byte[64 * 1024];
        var line = new ArrayBufferWriter<byte>();
        long kept = 0;
        int read;
        while ((read = await part.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var rest = buffer.AsMemory(0, read);
            while (rest.Length > 0)
            {
                var end = rest.Span.IndexOf((byte)'\n');
                if (end < 0)
                {
                    line.Write(rest.Span);
                    break;
                }
                line.Write(rest.Span[..end]);
                rest = rest[(end + 1)..];
                var digest = Digest(line.WrittenSpan);
                if (!expected.TryGetValue(digest, out var left) || left == 0) return kept;
                expected[digest] = left - 1;
                inPart[digest] = inPart.GetValueOrDefault(digest) + 1;
                hash.AppendData(line.WrittenSpan);
                hash.AppendData(NewLine);
                kept += line.WrittenCount + 1;
                line.ResetWrittenCount();
            }
        }
        return kept;
    }

    private static UInt128 Digest(ReadOnlySpan<byte> line)
    {
        Span<byte> sha = stackalloc byte[32];
        SHA256.HashData(line, sha);
        return BinaryPrimitives.ReadUInt128LittleEndian(sha);
    }

    public void Dispose() => _gate.Dispose();
}
