namespace Castor.Hub;

/// <summary>What a pull reports as it goes; the command line draws bars or prints lines from it.</summary>
public interface IPullProgress
{
    /// <summary>The files are chosen; <paramref name="plan"/> lists them with their sizes.</summary>
    void Planned(string id, ModelSource source, PullPlan plan);

    /// <summary>A file starts or resumes; <paramref name="bytesPresent"/> are already on disk (a resumed partial download or a complete file).</summary>
    void FileStarted(HubFile file, long bytesPresent);

    /// <summary><paramref name="bytesDone"/> of the file are on disk now.</summary>
    void Advanced(HubFile file, long bytesDone);

    /// <summary>The file is verified and in place; <paramref name="downloaded"/> is false when it already was.</summary>
    void FileCompleted(HubFile file, bool downloaded);

    /// <summary>Something worth a line: waiting for another pull, a dropped connection being resumed, verifying a file.</summary>
    void Note(string message);
}
