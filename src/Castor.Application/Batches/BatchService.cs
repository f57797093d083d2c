using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Application.Generation;
using Castor.Application.Keys;
using Castor.Application.Models;
using Castor.Application.Paging;
using Castor.Storage.Batches;

namespace Castor.Application.Batches;

/// <summary>
/// The Batch API's rules for the authenticated caller: creating a job (inline or from a JSONL file, every request
/// validated up front and stored with the job in one transaction before the job is acknowledged), reading, listing,
/// cancelling and deleting it, all within the caller's project. Running it is <see cref="BatchWorker"/>'s job.
/// </summary>
public sealed class BatchService(IBatchStore store, IFileService files, ModelCatalogue catalogue, BatchOptions options, BatchWorker worker, TimeProvider clock,
    Quotas.QuotaLimiter? limiter = null, IGenerationService? generation = null)
{
    public const int DefaultPageSize = 10;
    public const int MaxPageSize = 100;
    private const int MaxDisplayNameLength = 512;

    public async Task<BatchJob> CreateAsync(Caller caller, NewBatch batch, CancellationToken cancellationToken)
    {
        // Empty for OpenAI batches, whose every request names its own model.
        var model = ModelCatalogue.StripPrefix(batch.Model);
        // An unknown model (or one that cannot do the job's method) is refused now, as the online call would refuse it.
        if (model.Length > 0 && batch.Kind == BatchKind.EmbedContent) catalogue.ResolveEmbedding(model, "asyncBatchEmbedContent");
        else if (model.Length > 0) catalogue.ResolveGenerative(model, "batchGenerateContent");
        if (batch.DisplayName is { Length: > MaxDisplayNameLength })
            throw CastorException.InvalidField("batch.displayName", $"the display name has {batch.DisplayName.Length} characters; at most {MaxDisplayNameLength} are allowed.");
        if (batch.Requests is null == batch.InputFile is null)
            throw CastorException.InvalidField("batch.inputConfig", "set exactly one of requests (inline requests) and fileName (a JSONL file uploaded with the Files API).");
        if (batch.Requests is { Count: 0 })
            throw CastorException.InvalidField("batch.inputConfig.requests.requests", "a batch needs at least one request.");
        if (batch.Requests is not null && batch.Requests.All(r => r.Error is not null))
            throw CastorException.InvalidArgument("No request of the batch is valid: " + FirstError(batch.Requests));

        var now = Now();
        var stored = new StoredBatch(NewId(), caller.ProjectId, BatchKinds.Name(batch.Kind), batch.Dialect.Name, model.Length == 0 ? "" : "models/" + model, batch.DisplayName,
            batch.InputFile is null ? null : FileService.NamePrefix + FileService.ParseName(batch.InputFile, "batch.inputConfig.fileName"),
            null, BatchState.Pending, null, 0, false, now, now, null, now + options.MaxRunTime)
        {
            // The job's requests are the submitting key's usage.
            SubmitterKeyId = caller.KeyId,
        };
        var requests = batch.Requests is not null
            ? batch.Requests.ToAsyncEnumerable()
            : ReadFileAsync(caller, batch, model, stored.InputFile!, cancellationToken);
        // With a Batch Enqueued Tokens limit, each request is tokenized as it is enqueued, so the limit adds up real counts.
        var counted = new Dictionary<string, string>(StringComparer.Ordinal);
        if (limiter is not null && generation is not null && await limiter.LimitsBatchTokensAsync(caller, cancellationToken).ConfigureAwait(false))
            requests = CountTokensAsync(caller, batch, model, requests, counted, cancellationToken);
        stored = await store.CreateAsync(stored, requests, cancellationToken).ConfigureAwait(false);
        if (limiter is not null)
        {
            // Checked with the job stored, so its requests (inline or from a file) are counted as the store holds them;
            // per model, and an OpenAI job names its model in each request.
            try
            {
                if (model.Length > 0)
                {
                    var modelId = batch.Kind == BatchKind.EmbedContent ? catalogue.ResolveEmbedding(model, "asyncBatchEmbedContent").Id
                        : catalogue.ResolveGenerative(model, "batchGenerateContent").Description.Id;
                    counted.TryAdd(modelId, model);
                }
                foreach (var (modelId, requested) in counted)
                    await limiter.CheckBatchAsync(caller, batch.Kind == BatchKind.EmbedContent ? Quotas.QuotaOperation.EmbedContent : Quotas.QuotaOperation.GenerateContent,
                        modelId, requested, stored.Model, cancellationToken).ConfigureAwait(false);
            }
            catch (CastorException)
            {
                await store.DeleteAsync(caller.ProjectId, stored.Id, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }
        worker.Wake();
        return new BatchJob(stored, await store.CountAsync(stored.Id, cancellationToken).ConfigureAwait(false));
    }

    public async Task<BatchJob> GetAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var batch = await store.GetAsync(caller.ProjectId, ParseName(name), cancellationToken).ConfigureAwait(false) ?? throw NotFound(name);
        return new BatchJob(batch, await store.CountAsync(batch.Id, cancellationToken).ConfigureAwait(false));
    }

    public async Task<BatchListing> ListAsync(Caller caller, int? pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        if (pageSize is < 0)
            throw CastorException.InvalidField("pageSize", $"{pageSize} is not a valid page size; use 1 to {MaxPageSize}.");
        var size = pageSize is null or 0 ? DefaultPageSize : Math.Min(pageSize.Value, MaxPageSize);
        var cursor = string.IsNullOrEmpty(pageToken) ? null : DecodeCursor(pageToken);
        // One more than the page tells whether another page follows without a second query.
        var rows = await store.ListAsync(caller.ProjectId, size + 1, cursor, cancellationToken).ConfigureAwait(false);
        var page = new List<BatchJob>();
        foreach (var batch in rows.Take(size))
            page.Add(new BatchJob(batch, await store.CountAsync(batch.Id, cancellationToken).ConfigureAwait(false)));
        var next = rows.Count > size
            ? PageTokens.Encode(page[^1].Batch.CreateTime.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + page[^1].Batch.Id)
            : null;
        return new BatchListing(page, next);
    }

    /// <summary>
    /// Pending requests are not run from now on; requests already running finish and their results are kept. A job
    /// that already ended is left as it is.
    /// </summary>
    public async Task<BatchJob> CancelAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var batch = await store.CancelAsync(caller.ProjectId, ParseName(name), Now(), cancellationToken).ConfigureAwait(false) ?? throw NotFound(name);
        worker.Wake();
        return new BatchJob(batch, await store.CountAsync(batch.Id, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Removes the job, its stored requests and any streamed parts of its output; its output file (a Files API file)
    /// stays until it expires or is deleted.
    /// </summary>
    public async Task DeleteAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        var id = ParseName(name);
        if (!await store.DeleteAsync(caller.ProjectId, id, cancellationToken).ConfigureAwait(false))
            throw NotFound(name);
        // An unfinished file batch's streamed output parts (no finalize will remove them now).
        worker.DeleteOutputParts(caller.ProjectId, id);
    }

    /// <summary>The job's requests in input order with their results (inline output), read as a stream.</summary>
    public IAsyncEnumerable<StoredBatchRequest> ReadRequestsAsync(BatchJob job, CancellationToken cancellationToken) =>
        store.ReadRequestsAsync(job.Batch.Id, cancellationToken);

    /// <summary><c>batches/abc</c> or <c>abc</c> → <c>abc</c> (ids are what <see cref="NewId"/> makes: lower-case letters and digits).</summary>
    public static string ParseName(string name)
    {
        var id = name.StartsWith(BatchJob.NamePrefix, StringComparison.Ordinal) ? name[BatchJob.NamePrefix.Length..] : name;
        if (id.Length is 0 or > 64 || !id.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))
            throw CastorException.InvalidField("name", $"'{name}' is not a valid batch name; use batches/ID.");
        return id;
    }

    private async IAsyncEnumerable<NewBatchRequest> ReadFileAsync(Caller caller, NewBatch batch, string model, string fileName,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (_, content) = await files.OpenAsync(caller, fileName, cancellationToken).ConfigureAwait(false);
        await using var _ = content.ConfigureAwait(false);
        using var reader = new StreamReader(content, Encoding.UTF8);
        long lineNumber = 0, valid = 0;
        string? firstError = null;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var request = batch.Dialect.ParseLine(batch.Kind, model, line, lineNumber);
            if (request.Error is null) valid++;
            else firstError ??= request.Error;
            yield return request;
        }
        // Thrown inside the store's transaction, which then commits nothing.
        if (valid == 0)
            throw CastorException.InvalidField("batch.inputConfig.fileName", lineNumber == 0
                ? $"the file {fileName} has no requests."
                : $"no line of {fileName} is a valid request; the first error: {firstError}");
    }

    /// <summary>
    /// Each valid generation request with its input tokens as its model counts them (the same count generateContent's
    /// usageMetadata reports), and the models counted for (local id → the name the requests used). A request that
    /// cannot be counted is stored uncounted (its length then stands in); it fails on its own when it runs.
    /// </summary>
    private async IAsyncEnumerable<NewBatchRequest> CountTokensAsync(Caller caller, NewBatch batch, string model, IAsyncEnumerable<NewBatchRequest> requests,
        Dictionary<string, string> models, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var request in requests.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var counted = request;
            if (request is { Error: null, Request: { } json })
            {
                try
                {
                    if (batch.Dialect.ToGenerationRequest(batch.Kind, model, json) is { } generate)
                    {
                        var modelId = catalogue.ResolveGenerative(generate.Model, "batchGenerateContent").Description.Id;
                        var tokens = await generation!.CountTokensAsync(caller, generate, cancellationToken).ConfigureAwait(false);
                        models.TryAdd(modelId, ModelCatalogue.StripPrefix(generate.Model));
                        counted = request with { EnqueuedTokens = tokens, EnqueuedModel = modelId };
                    }
                }
                catch (Exception ex) when (ex is CastorException or System.Text.Json.JsonException)
                {
                }
            }
            yield return counted;
        }
    }

    private static string FirstError(IReadOnlyList<NewBatchRequest> requests) => requests.First(r => r.Error is not null).Error!;

    private static BatchCursor DecodeCursor(string token)
    {
        var text = PageTokens.Decode(token);
        var slash = text?.IndexOf('/') ?? -1;
        if (slash <= 0 || !long.TryParse(text![..slash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
                       || ticks > DateTimeOffset.MaxValue.UtcTicks)
            throw PageTokens.Invalid();
        return new BatchCursor(new DateTimeOffset(ticks, TimeSpan.Zero), text[(slash + 1)..]);
    }

    private static CastorException NotFound(string name) =>
        new(ErrorStatus.NotFound, $"Batch {name} was not found, or it does not belong to this project.");

    private DateTimeOffset Now()
    {
        // Millisecond precision: what both databases and the wire keep exactly.
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }

    private static string NewId() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 12);
}
