namespace Castor.Application.Batches;

/// <summary>
/// A job's output file as its finalize left it: its size and SHA-256, how many result lines this node had streamed into
/// it as they were recorded, how many the finalize wrote from the database (results other nodes, or an earlier process,
/// recorded), and how many bytes of a torn or foreign tail it cut off first.
/// </summary>
public sealed record BatchOutput(long Size, byte[] Sha256, long Streamed, long Filled, long CutBytes);
