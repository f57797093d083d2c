using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Castor.Application.Backends;
using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Application.Paging;
using Castor.Storage.Caches;
using Microsoft.Extensions.Logging;

namespace Castor.Application.Caching;

/// <summary>
/// The cachedContents rules: a cache is a named, per-project prompt prefix whose KV is computed once, on create, and
/// kept as a snapshot in memory (least recently used leave first, <see cref="CacheSettings.MaxBytes"/>) and on disk
/// (so it survives a restart and other nodes on the same data folder can restore it). A request that names the cache
/// restores the snapshot instead of computing the prefix; a snapshot that is missing, damaged or made for other weights
/// or another KV layout is computed again from the stored definition.
/// </summary>
public sealed partial class CachedContentService(ICachedContentStore store, SnapshotFileStore files, ModelCatalogue catalogue, CacheSettings settings,
    TimeProvider clock, ILogger<CachedContentService> logger, GenerationOptions? generation = null, FilePartResolver? fileParts = null) : ICachedContentService
{
    public const string NamePrefix = "cachedContents/";
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    private const int MaxDisplayNameLength = 128;
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromHours(1);

    private readonly SnapshotMemory _memory = new(settings.MaxBytes);

    /// <summary>Snapshot bytes held in memory now, and how many snapshots that is.</summary>
    public long MemoryBytes => _memory.Bytes;
    public int MemorySnapshots => _memory.Count;

    public async Task<CachedContent> CreateAsync(Caller caller, NewCachedContent request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Model))
            throw CastorException.InvalidField("model", "model is required; name the model the cache is for, such as models/gemini-2.5-flash.");
        if (request.DisplayName is { Length: > MaxDisplayNameLength })
            throw CastorException.InvalidField("displayName", $"the display name has {request.DisplayName.Length} characters; at most {MaxDisplayNameLength} are allowed.");
        var now = clock.GetUtcNow();
        var expireTime = Expiry(request.Ttl, request.ExpireTime, now) ?? now + DefaultTtl;
        if (request.Contents.Count == 0 && request.SystemInstruction is null)
            throw CastorException.InvalidField("contents", "a cached content needs contents or a system instruction.");

        // File and inline parts become their text now, as generation would make them: the cache keeps working after the
        // files it was made from expire, and its prompt is the one the same parts inline give.
        var (contents, system) = (request.Contents, request.SystemInstruction);
        if (fileParts is not null)
        {
            var resolved = await fileParts.ResolveAsync(new GenerationRequest { Model = request.Model, Contents = contents, SystemInstruction = system },
                caller.ProjectId, cancellationToken).ConfigureAwait(false);
            (contents, system) = (resolved.Contents, resolved.SystemInstruction);
        }
        var definition = new CachedContentDefinition(contents, system, request.Tools, request.ToolChoice);
        using var lease = catalogue.Acquire(request.Model, "createCachedContent");
        var backend = lease.Backend;
        var tokens = PrefixTokens(definition, request.Model, backend, cancellationToken);
        var facts = backend.Description;
        if (tokens.Length > facts.ContextSize - 1)
            throw CastorException.InvalidField("contents",
                $"The cached content has {tokens.Length} tokens, more than model '{facts.Id}' takes in one request ({facts.ContextSize - 1}); start Castor with a larger --context-size.");
        var minimum = settings.MinCacheTokensFor(facts.Id);
        if (tokens.Length < minimum)
            throw CastorException.InvalidField("contents",
                $"Cached content is too small. total_token_count={tokens.Length}, min_total_token_count={minimum}.");

        var id = NewId();
        var snapshot = await SaveSnapshotAsync(backend, tokens, caller.ProjectId, cancellationToken).ConfigureAwait(false);
        var stored = new StoredCachedContent(caller.ProjectId, id, ModelName(request.Model), request.DisplayName, definition.ToJson(), tokens.Length,
            now, now, expireTime);
        if (snapshot is not null) await KeepSnapshotAsync(caller.ProjectId, id, snapshot, cancellationToken).ConfigureAwait(false);
        try
        {
            await store.InsertAsync(stored, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Forget(caller.ProjectId, id);
            throw;
        }
        return From(stored);
    }

    public async Task<CachedContent> GetAsync(Caller caller, string name, CancellationToken cancellationToken) =>
        From(await FindAsync(caller, name, "name", cancellationToken).ConfigureAwait(false));

    public async Task<CachedContentPage> ListAsync(Caller caller, int? pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        if (pageSize is < 0)
            throw CastorException.InvalidField("pageSize", $"{pageSize} is not a valid page size; use 1 to {MaxPageSize}.");
        var size = pageSize is null or 0 ? DefaultPageSize : Math.Min(pageSize.Value, MaxPageSize);
        var cursor = string.IsNullOrEmpty(pageToken) ? null : DecodePageToken(pageToken);
        var rows = await store.ListAsync(caller.ProjectId, clock.GetUtcNow(), size + 1, cursor, cancellationToken).ConfigureAwait(false);
        var page = rows.Take(size).ToList();
        var next = rows.Count > size ? EncodePageToken(new CachedContentCursor(page[^1].CreateTime, page[^1].Id)) : null;
        return new CachedContentPage(page.Select(From).ToList(), next);
    }

    public async Task<CachedContent> UpdateAsync(Caller caller, string name, CachedContentUpdate update, CancellationToken cancellationToken)
    {
        if (update.UpdateMask is { Length: > 0 } mask)
        {
            foreach (var path in mask.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (path is not ("ttl" or "expireTime" or "expire_time"))
                    throw CastorException.InvalidField("updateMask", $"'{path}' cannot be updated; only ttl or expireTime may change.");
        }
        foreach (var field in update.OtherFields)
            throw CastorException.InvalidField(field, $"{field} cannot be updated; only ttl or expireTime may change.");
        if (update.Ttl is null && update.ExpireTime is null)
            throw CastorException.InvalidField("ttl", "set ttl or expireTime: they are the only fields a cached content update may change.");

        var existing = await FindAsync(caller, name, "name", cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        var expireTime = Expiry(update.Ttl, update.ExpireTime, now)!.Value;
        if (!await store.UpdateExpiryAsync(caller.ProjectId, existing.Id, expireTime, now, now, cancellationToken).ConfigureAwait(false))
            throw Denied(existing.Id, "name");
        return From(existing with { ExpireTime = expireTime, UpdateTime = now });
    }

    /// <summary>
    /// Removes the cache at once for every new request; a request already running keeps the snapshot it resolved and
    /// finishes normally.
    /// </summary>
    public async Task DeleteAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var id = ParseName(name, "name");
        if (!await store.DeleteAsync(caller.ProjectId, id, cancellationToken).ConfigureAwait(false))
            throw Denied(id, "name");
        Forget(caller.ProjectId, id);
    }

    public async Task<ResolvedCachedContent> ResolveAsync(Caller caller, string name, string field, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(caller, name, field, cancellationToken).ConfigureAwait(false);
        var definition = CachedContentDefinition.FromJson(stored.Definition);
        KvSnapshot? snapshot = null;
        var backend = catalogue.ResolveGenerative(stored.Model);
        if (backend.SnapshotIdentity.Length > 0)
            snapshot = await LoadSnapshotAsync(stored, definition, backend, cancellationToken).ConfigureAwait(false);
        return new ResolvedCachedContent(From(stored), definition.Contents, definition.SystemInstruction, definition.Tools, definition.ToolChoice, snapshot);
    }

    /// <summary>Every live cache of every project, for <c>castor caches list</c> and the banner.</summary>
    public async Task<IReadOnlyList<(string ProjectId, CachedContent Cache, long SnapshotBytes)>> ListAllAsync(CancellationToken cancellationToken)
    {
        var rows = await store.ListAllAsync(clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return rows.Select(r =>
        {
            var path = files.PathOf(r.ProjectId, r.Id);
            return (r.ProjectId, From(r), File.Exists(path) ? new FileInfo(path).Length : 0L);
        }).ToList();
    }

    /// <summary>Removes expired caches with their snapshots, and snapshot files no cache owns (temporary files of a crashed write too).</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var gone = await store.DeleteExpiredAsync(now, cancellationToken).ConfigureAwait(false);
        foreach (var (project, id) in gone) Forget(project, id);
        var live = (await store.ListAllAsync(now, cancellationToken).ConfigureAwait(false)).Select(r => Key(r.ProjectId, r.Id)).ToHashSet(StringComparer.Ordinal);
        foreach (var (project, id, path, temporary) in files.Enumerate().ToList())
        {
            // A temporary file younger than a minute may be a write in progress on this or another node.
            if (temporary ? File.GetLastWriteTimeUtc(path) < now.UtcDateTime.AddMinutes(-1) : !live.Contains(Key(project, id)))
                TryDelete(path);
        }
        return gone.Count;
    }

    /// <summary>
    /// The tokens a cache holds: the part of the prompt that every request using the cache shares, whatever it adds.
    /// Rendering the prefix with two different user turns after it and keeping their common tokens finds exactly that,
    /// with any chat template (a template may render the last turn differently, or join tokens across the boundary).
    /// </summary>
    internal static int[] PrefixTokens(CachedContentDefinition definition, string model, IModelBackend backend, CancellationToken cancellationToken)
    {
        GenerationRequest With(string question) => new()
        {
            Model = model,
            Contents = [.. definition.Contents, new Content(Content.UserRole, [new TextPart(question)])],
            SystemInstruction = definition.SystemInstruction,
            Tools = definition.Tools,
            ToolChoice = definition.ToolChoice,
        };
        var a = GenerationService.PreparePrompt(With("A"), backend, cancellationToken);
        var b = GenerationService.PreparePrompt(With("Z"), backend, cancellationToken);
        return a.AsSpan(0, a.AsSpan().CommonPrefixLength(b)).ToArray();
    }

    private async Task<KvSnapshot?> SaveSnapshotAsync(IModelBackend backend, int[] tokens, string projectId, CancellationToken cancellationToken)
    {
        if (backend.SnapshotIdentity.Length == 0) return null;
        try
        {
            return await backend.SavePrefixSnapshotAsync(tokens, GenerationService.PrefixPartitionOf(projectId, generation?.SharePrefixesAcrossProjects ?? false), cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    private async Task KeepSnapshotAsync(string projectId, string id, KvSnapshot snapshot, CancellationToken cancellationToken)
    {
        _memory.Put(Key(projectId, id), snapshot);
        if (DiskBytes() + snapshot.SizeBytes > settings.MaxBytes)
        {
            // Disk is bounded like memory; without a file the cache still works here and is recomputed after a restart.
            logger.LogWarning("Snapshot of {Cache} not written: snapshots on disk would pass Caches:MaxBytes ({MaxBytes} bytes)", NamePrefix + id, settings.MaxBytes);
            return;
        }
        try
        {
            await files.WriteAsync(projectId, id, snapshot.Identity, snapshot.Tokens, snapshot.State, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Snapshot of {Cache} could not be written; it is kept in memory only", NamePrefix + id);
        }
    }

    private long DiskBytes() => files.Enumerate().Sum(f => new FileInfo(f.Path) is { Exists: true } info ? info.Length : 0);

    /// <summary>Memory, then disk (checked: identity, tokens, checksum), then computed again from the definition.</summary>
    private async Task<KvSnapshot?> LoadSnapshotAsync(StoredCachedContent stored, CachedContentDefinition definition, IModelBackend backend, CancellationToken cancellationToken)
    {
        var key = Key(stored.ProjectId, stored.Id);
        var identity = backend.SnapshotIdentity;
        if (_memory.Get(key) is { } held && held.Identity == identity) return held;

        var file = await files.ReadAsync(stored.ProjectId, stored.Id, cancellationToken).ConfigureAwait(false);
        if (file is not null && file.Identity == identity && file.Tokens.Length == stored.TokenCount)
        {
            var loaded = new KvSnapshot(file.Identity, file.Tokens, file.State);
            _memory.Put(key, loaded);
            return loaded;
        }
        if (file is not null)
            logger.LogInformation("Snapshot of {Cache} was made for another model file or KV layout; computing it again", NamePrefix + stored.Id);

        var tokens = PrefixTokens(definition, stored.Model, backend, cancellationToken);
        if (tokens.Length == 0 || tokens.Length > backend.Description.ContextSize - 1) return null;
        var snapshot = await SaveSnapshotAsync(backend, tokens, stored.ProjectId, cancellationToken).ConfigureAwait(false);
        if (snapshot is not null) await KeepSnapshotAsync(stored.ProjectId, stored.Id, snapshot, cancellationToken).ConfigureAwait(false);
        return snapshot;
    }

    private async Task<StoredCachedContent> FindAsync(Caller caller, string name, string field, CancellationToken cancellationToken)
    {
        var id = ParseName(name, field);
        return await store.GetAsync(caller.ProjectId, id, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false) ?? throw Denied(id, field);
    }

    private void Forget(string projectId, string id)
    {
        _memory.Remove(Key(projectId, id));
        files.Delete(projectId, id);
    }

    /// <summary><c>ttl</c> ("3600s", "3600.5s") or <c>expireTime</c> (RFC 3339 with a zone), at most one; null for neither.</summary>
    private static DateTimeOffset? Expiry(string? ttl, string? expireTime, DateTimeOffset now)
    {
        if (ttl is not null && expireTime is not null)
            throw CastorException.InvalidField("expireTime", "set either ttl or expireTime, not both.");
        if (ttl is not null)
        {
            var match = Duration().Match(ttl);
            if (!match.Success || !decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
                throw CastorException.InvalidField("ttl", $"'{ttl}' is not a valid duration; use seconds with an 's' suffix, such as \"3600s\" or \"3600.5s\".");
            if (seconds <= 0)
                throw CastorException.InvalidField("ttl", $"'{ttl}' is not a valid ttl; it must be positive.");
            if (seconds > 10m * 365 * 24 * 3600)
                throw CastorException.InvalidField("ttl", $"'{ttl}' is too long; a ttl may be at most ten years.");
            return now + TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }
        if (expireTime is not null)
        {
            if (!Rfc3339().IsMatch(expireTime) ||
                !DateTimeOffset.TryParse(expireTime, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
                throw CastorException.InvalidField("expireTime",
                    $"'{expireTime}' is not a valid timestamp; use RFC 3339 with a time zone, such as \"2030-01-01T00:00:00Z\".");
            if (time <= now)
                throw CastorException.InvalidField("expireTime", $"'{expireTime}' is in the past; the expiry must be later than now.");
            return time.ToUniversalTime();
        }
        return null;
    }

    /// <summary><c>cachedContents/abc</c> or <c>abc</c> → <c>abc</c>.</summary>
    public static string ParseName(string name, string field)
    {
        var id = name.StartsWith(NamePrefix, StringComparison.Ordinal) ? name[NamePrefix.Length..] : name;
        if (!CacheId().IsMatch(id))
            throw CastorException.InvalidField(field, $"'{name}' is not a valid cached content name; use cachedContents/ID as returned by cachedContents.create.");
        return id;
    }

    /// <summary>Unknown, expired and other projects' caches get the same answer, as from the API, so names tell nothing.</summary>
    private static CastorException Denied(string id, string field) =>
        CastorException.WithField(ErrorStatus.PermissionDenied, field, $"CachedContent not found (or permission denied): {NamePrefix}{id}.");

    private static string ModelName(string model) => model.StartsWith("models/", StringComparison.Ordinal) ? model : "models/" + model;

    private static CachedContent From(StoredCachedContent s) =>
        new(s.Id, s.Model, s.DisplayName, s.CreateTime, s.UpdateTime, s.ExpireTime, s.TokenCount);

    private static string Key(string projectId, string id) => projectId + "/" + id;

    private static string NewId() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 16);

    private static string EncodePageToken(CachedContentCursor cursor) =>
        PageTokens.Encode($"caches:{cursor.CreateTime.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{cursor.Id}");

    private static CachedContentCursor DecodePageToken(string token)
    {
        var parts = PageTokens.Decode(token)?.Split(':');
        if (parts is { Length: 3 } && parts[0] == "caches" &&
            long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) &&
            ticks <= DateTimeOffset.MaxValue.UtcTicks && CacheId().IsMatch(parts[2]))
            return new CachedContentCursor(new DateTimeOffset(ticks, TimeSpan.Zero), parts[2]);
        throw PageTokens.Invalid();
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
    }

    [GeneratedRegex(@"\A[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?\z")]
    private static partial Regex CacheId();

    [GeneratedRegex(@"\A([0-9]{1,12}(\.[0-9]{1,9})?)s\z")]
    private static partial Regex Duration();

    // A date, a time and a zone (Z or ±hh:mm): without a zone the instant is ambiguous, and the API refuses it.
    [GeneratedRegex(@"\A\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\z")]
    private static partial Regex Rfc3339();
}
