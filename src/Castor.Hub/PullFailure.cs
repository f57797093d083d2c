namespace Castor.Hub;

/// <summary>Why a pull failed, for callers that act on it (first run treats <see cref="Unreachable"/> as "offline").</summary>
public enum PullFailure
{
    /// <summary>The hub could not be reached (no network, DNS, refused connection, timeout).</summary>
    Unreachable,
    /// <summary>The repository, revision or file does not exist.</summary>
    NotFound,
    /// <summary>The repository is gated or private and the token is missing or lacks access (401/403).</summary>
    Unauthorized,
    /// <summary>The repository has no file that matches what was asked for.</summary>
    NoMatchingFile,
    /// <summary>A downloaded file's size or SHA-256 differs from the hub's listing.</summary>
    IntegrityMismatch,
    /// <summary>The disk holding the models folder is full.</summary>
    DiskFull,
    /// <summary>The hub answered with an error it should not have, or the models folder is unusable.</summary>
    Other,
}
