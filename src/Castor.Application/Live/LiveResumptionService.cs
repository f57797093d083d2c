using System.Security.Cryptography;
using System.Text;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Castor.Storage.Live;

namespace Castor.Application.Live;

/// <summary>
/// Live session resumption: at each turn boundary a resumable session is saved under a fresh random handle (the client
/// gets it in <c>sessionResumptionUpdate.newHandle</c>), and a new connection that presents the newest handle continues
/// the session. Handles are stored as SHA-256 hashes, belong to the session's project, and expire a lifetime after the
/// session's last update (the API keeps them 2 hours). The state lives in the database, so a restarted server or
/// another node can resume the session.
/// </summary>
public sealed class LiveResumptionService(ILiveSessionStore store, TimeProvider clock)
{
    /// <summary>The API's lifetime of a resumption handle: 2 hours.</summary>
    public static readonly TimeSpan DefaultHandleLifetime = TimeSpan.FromHours(2);

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string HandleField = "setup.sessionResumption.handle";

    /// <summary>An id for a session that has not been saved yet.</summary>
    public static string NewSessionId() => "ls-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Saves the session as it stands and returns its new handle; earlier handles of the session stop working.</summary>
    public async Task<string> SaveAsync(Caller caller, ResumableLiveSession session, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        // 43 characters of a 62-letter alphabet: 256 bits, so a handle cannot be guessed.
        var handle = RandomNumberGenerator.GetString(Alphabet, 43);
        var now = clock.GetUtcNow();
        await store.SaveAsync(new StoredLiveSession(session.Id, Hash(handle), caller.ProjectId, session.Model, session.Setup,
            session.Conversation, now, now + lifetime), now, cancellationToken).ConfigureAwait(false);
        return handle;
    }

    /// <summary>
    /// The session <paramref name="handle"/> stands for. Throws NOT_FOUND (the Live API closes with 1008) for an unknown,
    /// replaced or expired handle, and PERMISSION_DENIED for another project's.
    /// </summary>
    public async Task<ResumableLiveSession> ResumeAsync(Caller caller, string handle, CancellationToken cancellationToken = default)
    {
        var stored = await store.FindAsync(Hash(handle), cancellationToken).ConfigureAwait(false)
                     ?? throw new CastorException(ErrorStatus.NotFound,
                         $"{HandleField}: unknown session handle (only the newest newHandle resumes); open a new session.");
        if (stored.ProjectId != caller.ProjectId)
            throw new CastorException(ErrorStatus.PermissionDenied, $"{HandleField}: the session belongs to another project.");
        if (clock.GetUtcNow() >= stored.ExpireTime)
            throw new CastorException(ErrorStatus.NotFound, $"{HandleField}: the session handle has expired; open a new session.");
        return new ResumableLiveSession(stored.Id, stored.Model, stored.Setup, stored.Conversation);
    }

    private static byte[] Hash(string handle) => SHA256.HashData(Encoding.UTF8.GetBytes(handle));
}
