namespace Castor.Hub;

/// <summary>
/// An exclusive lock on one model's folder, held by a pull or a removal, so two pulls of the same model (in one process
/// or two) never write the same partial file. The lock file stays: deleting it on release would let a waiter lock the
/// deleted inode while a third process locks a new file of the same name.
/// </summary>
public sealed class ModelFolderLock : IDisposable
{
    public const string FileName = ".castor-pull.lock";

    private readonly FileStream _handle;

    private ModelFolderLock(FileStream handle) => _handle = handle;

    /// <summary>Takes the lock, waiting (and saying so once through <paramref name="waiting"/>) while another holder has it.</summary>
    public static async Task<ModelFolderLock> AcquireAsync(string folder, Action<string>? waiting, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var said = false;
        while (true)
        {
            try
            {
                // FileShare.None is an flock on Unix and a share mode on Windows: both exclude other handles, in this process or another.
                return new ModelFolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException) when (File.Exists(path))
            {
                if (!said) waiting?.Invoke($"Another castor is pulling or removing {Path.GetFileName(folder)}; waiting for it to finish …");
                said = true;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    public void Dispose() => _handle.Dispose();
}
