namespace Castor.Storage;

/// <summary>
/// The data folder holds every project's files and the key database: folders are created 0700 and files 0600 whatever
/// the umask, so another local user can read neither. (Windows: the folder's inherited ACL applies.)
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the folder (and its missing parents) as 0700; an existing folder is tightened to 0700.</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, FolderMode);
        if ((File.GetUnixFileMode(path) & ~FolderMode) != 0)
            File.SetUnixFileMode(path, FolderMode);
    }

    /// <summary>Sets an existing file to 0600 (for files another library creates, such as SQLite's).</summary>
    public static void Restrict(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return;
        if ((File.GetUnixFileMode(path) & ~FileMode) != 0)
            File.SetUnixFileMode(path, FileMode);
    }

    /// <summary>Options for a new file: created 0600 at once (never briefly readable by others).</summary>
    public static FileStreamOptions Options(System.IO.FileMode mode, FileAccess access, FileShare share, int bufferSize, FileOptions options)
    {
        var result = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize, Options = options };
        if (!OperatingSystem.IsWindows() && mode != System.IO.FileMode.Open && mode != System.IO.FileMode.Truncate)
            result.UnixCreateMode = FileMode;
        return result;
    }
}
