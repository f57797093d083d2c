using System.Net;
using System.Security.Cryptography;

namespace Castor.Hub;

/// <summary>
/// Downloads a model from the hub into <c>{models}/{id}/</c>, keeping the repository's file names (the layout the
/// projector pairing rule expects: one model and its <c>mmproj*.gguf</c> in one folder). Each file is written to
/// <c>{name}.partial</c>, resumed with <c>Range</c> after a dropped connection or an interrupted run, checked against
/// the hub's size and SHA-256, and only then renamed to its name: a <c>.gguf</c> in the models folder is always complete.
/// </summary>
public sealed class ModelPuller(HubClient hub, string modelsFolder)
{
    public const string PartialSuffix = ".partial";

    /// <summary>Connection drops survived per file before giving up (the next run still resumes where this one stopped).</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>Pause before resuming after a drop, doubled per retry.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Opens a partial file for appending; tests substitute a stream that fails as a full disk does.</summary>
    internal Func<string, Stream> OpenPartial { get; init; } = path =>
        new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16, FileOptions.None);

    /// <summary>Free bytes on the disk holding a folder; tests substitute a small number.</summary>
    internal Func<string, long> FreeSpace { get; init; } = folder => new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;

    public string ModelsFolder { get; } = Path.GetFullPath(modelsFolder);

    public async Task<PulledModel> PullAsync(ModelSource source, IPullProgress progress, CancellationToken cancellationToken = default)
    {
        var folder = Path.Combine(ModelsFolder, CheckId(source.Id));
        var flat = Path.Combine(ModelsFolder, source.Id + ".gguf");
        if (File.Exists(flat))
            throw new PullException(PullFailure.Other, $"{flat} already has the id '{source.Id}'; move it away or remove it first.");

        var files = await hub.ListFilesAsync(source.Repository, source.Revision, cancellationToken);
        var plan = PullPlan.Choose(source, files);

        using var held = await ModelFolderLock.AcquireAsync(folder, progress.Note, cancellationToken);
        var previous = PullManifest.Read(folder);
        if (previous is not null && !string.Equals(previous.Repository, source.Repository, StringComparison.OrdinalIgnoreCase))
            throw new PullException(PullFailure.Other,
                $"The model id '{source.Id}' is taken by {previous.Source} in {folder}. Remove it first (castor models rm {source.Id}).");
        if (previous is null && Directory.EnumerateFiles(folder, "*.gguf").Any())
            throw new PullException(PullFailure.Other, $"{folder} already holds GGUF files castor did not pull; move them away or remove them first.");
        // Written before the first byte: it marks the folder as castor's (a resumed pull may continue in it) and records
        // the SHA-256 each file is checked against; files reach their final names only once verified.
        var manifest = new PullManifest
        {
            Id = source.Id,
            Source = source.ToString(),
            Repository = source.Repository,
            Revision = source.Revision,
            Quantization = plan.Quantization,
            Files = plan.All.Select(f => new PullManifestFile(f.Name, f.Path, f.Size, f.Sha256)).ToList(),
            Projector = plan.Projector?.Name,
            PulledAt = DateTimeOffset.UtcNow,
        };
        progress.Planned(source.Id, source, plan);

        var needed = plan.All.Sum(f => Math.Max(0, f.Size - PresentBytes(folder, f)));
        var free = FreeSpace(folder);
        if (needed > free)
            throw DiskFull(folder, needed - free, null);

        // The projector first and the model's first part last: a server watching the folder sees a loadable model only
        // when everything it needs is there.
        manifest.Write(folder);
        var order = plan.Projector is null ? plan.ModelFiles.Reverse() : plan.ModelFiles.Reverse().Prepend(plan.Projector);
        long downloaded = 0;
        foreach (var file in order)
            downloaded += await FetchAsync(source, file, folder, previous, progress, cancellationToken);

        (manifest with { PulledAt = DateTimeOffset.UtcNow }).Write(folder);

        return new PulledModel(source.Id, folder, Path.Combine(folder, plan.ModelFiles[0].Name),
            plan.Projector is null ? null : Path.Combine(folder, plan.Projector.Name), source.ToString(), plan.Quantization, plan.TotalBytes, downloaded);
    }

    /// <summary>Brings one file into place; returns the bytes downloaded.</summary>
    private async Task<long> FetchAsync(ModelSource source, HubFile file, string folder, PullManifest? previous, IPullProgress progress, CancellationToken cancellationToken)
    {
        var target = Path.Combine(folder, file.Name);
        if (File.Exists(target) && new FileInfo(target).Length == file.Size)
        {
            var recorded = previous?.Files.FirstOrDefault(f => f.Name == file.Name)?.Sha256;
            if (file.Sha256 is null || string.Equals(recorded, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                progress.FileStarted(file, file.Size);
                progress.FileCompleted(file, downloaded: false);
                return 0;
            }
            // A file this pull's manifest does not vouch for (another pull placed it, or the hub's file changed): hash it once.
            progress.Note($"Checking {file.Name} already on disk …");
            if (string.Equals(await HashFileAsync(target, file.Size, cancellationToken), file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                progress.FileStarted(file, file.Size);
                progress.FileCompleted(file, downloaded: false);
                return 0;
            }
            File.Delete(target);
        }

        var partial = target + PartialSuffix;
        if (File.Exists(partial) && new FileInfo(partial).Length > file.Size) File.Delete(partial);
        var startedWith = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        progress.FileStarted(file, startedWith);

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long hashed = 0;
        var drops = 0;
        var buffer = new byte[1 << 20];
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (offset < hashed)
            {
                sha.GetHashAndReset();
                hashed = 0;
            }
            if (hashed < offset) hashed += await HashRangeAsync(partial, sha, hashed, offset, cancellationToken);
            if (offset == file.Size) break;

            using var response = await hub.OpenFileAsync(source.Repository, source.Revision, file.Path, offset, cancellationToken);
            if (offset > 0 && (response.StatusCode != HttpStatusCode.PartialContent || response.Content.Headers.ContentRange?.From != offset))
            {
                // The server sent the whole file instead of the rest: start over rather than append it.
                progress.Note($"The hub did not resume {file.Name} at byte {offset}; downloading it from the start.");
                File.Delete(partial);
                sha.GetHashAndReset();
                hashed = 0;
                offset = 0;
            }

            var failure = await CopyAsync(response, partial, file, offset, sha, buffer, progress, cancellationToken);
            hashed = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (failure is null) continue;
            if (++drops > MaxRetries)
                throw new PullException(PullFailure.Unreachable,
                    $"The connection to {hub.Endpoint} dropped {drops} times while downloading {file.Name} ({failure.Message}). " +
                    $"{hashed} of {file.Size} bytes are kept; run the same command again to resume.", failure);
            progress.Note($"The connection dropped at byte {hashed} of {file.Name} ({failure.Message}); resuming …");
            await Task.Delay(RetryDelay * (1 << Math.Min(drops - 1, 5)), cancellationToken);
        }

        var size = new FileInfo(partial).Length;
        var digest = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (size != file.Size || (file.Sha256 is not null && !string.Equals(digest, file.Sha256, StringComparison.OrdinalIgnoreCase)))
        {
            File.Delete(partial);
            throw new PullException(PullFailure.IntegrityMismatch, size != file.Size
                ? $"{file.Name} arrived with {size} bytes, but the hub lists {file.Size}; the download was discarded. Pull again."
                : $"{file.Name} has SHA-256 {digest}, but the hub lists {file.Sha256}; the download was discarded. Pull again; " +
                  "if it happens again, something between here and the hub changes the file.");
        }
        File.Move(partial, target, overwrite: true);
        progress.FileCompleted(file, downloaded: true);
        return file.Size - startedWith;
    }

    /// <summary>
    /// Appends the response body to the partial file and the hash. A failure reading the network is returned (the caller
    /// resumes); a failure writing the disk is thrown (resuming would fail the same way).
    /// </summary>
    private async Task<Exception?> CopyAsync(HttpResponseMessage response, string partial, HubFile file, long offset, IncrementalHash sha,
        byte[] buffer, IPullProgress progress, CancellationToken cancellationToken)
    {
        Stream body;
        try
        {
            body = await response.Content.ReadAsStreamAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return ex;
        }
        await using var _ = body;
        await using var output = OpenPartial(partial);
        var done = offset;
        while (done < file.Size)
        {
            int read;
            try
            {
                read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, file.Size - done)), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                await FlushAsync(output, partial);
                return ex;
            }
            if (read == 0)
            {
                await FlushAsync(output, partial);
                return new IOException($"the response ended at byte {done}");
            }
            try
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            catch (IOException ex) when (IsDiskFull(ex))
            {
                throw DiskFull(Path.GetDirectoryName(partial)!, file.Size - done, ex);
            }
            sha.AppendData(buffer, 0, read);
            done += read;
            progress.Advanced(file, done);
        }
        await FlushAsync(output, partial);
        return null;
    }

    private static async Task FlushAsync(Stream output, string partial)
    {
        try
        {
            await output.FlushAsync();
            if (output is FileStream file) file.Flush(flushToDisk: true);
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            throw DiskFull(Path.GetDirectoryName(partial)!, 0, ex);
        }
    }

    private static async Task<long> HashRangeAsync(string path, IncrementalHash sha, long from, long to, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        input.Position = from;
        var buffer = new byte[1 << 20];
        var left = to - from;
        while (left > 0)
        {
            var read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
            if (read == 0) break;
            sha.AppendData(buffer, 0, read);
            left -= read;
        }
        return to - from - left;
    }

    private static async Task<string> HashFileAsync(string path, long size, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await HashRangeAsync(path, sha, 0, size, cancellationToken);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static long PresentBytes(string folder, HubFile file)
    {
        var target = Path.Combine(folder, file.Name);
        if (File.Exists(target)) return new FileInfo(target).Length;
        var partial = target + PartialSuffix;
        return File.Exists(partial) ? new FileInfo(partial).Length : 0;
    }

    /// <summary>ENOSPC/EDQUOT on Linux and macOS, ERROR_DISK_FULL/ERROR_HANDLE_DISK_FULL on Windows.</summary>
    internal static bool IsDiskFull(IOException ex) =>
        OperatingSystem.IsWindows() ? (ex.HResult & 0xFFFF) is 112 or 39 : ex.HResult is 28 or 122 || (OperatingSystem.IsMacOS() && ex.HResult == 69);

    private static PullException DiskFull(string folder, long short_, Exception? inner) =>
        new(PullFailure.DiskFull,
            $"The disk holding {folder} is full{(short_ > 0 ? $" ({FormatBytes(short_)} more are needed)" : "")}. Free some space (castor models rm <id> removes a model) " +
            "and run the same command again: what is downloaded so far is kept and the pull resumes.", inner);

    private static string CheckId(string id)
    {
        if (id.Length == 0 || id is "." or ".." || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id.Contains('/') || id.Contains('\\'))
            throw new PullException(PullFailure.Other, $"'{id}' cannot be a model id (it must be usable as a folder name).");
        return id;
    }

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
