using System.Security.Cryptography;
using Castor.Application.Errors;
using Castor.Application.Files;
using Castor.Application.Keys;
using Castor.Application.Metering;
using Castor.Application.Models;
using Castor.Storage.Batches;
using Castor.Storage.Files;
using Microsoft.Extensions.Logging;

namespace Castor.Application.Batches;

/// <summary>
/// Runs batch jobs on this node: claims waiting requests with leases in the database (so any number of nodes sharing
/// PostgreSQL work one job together, and a dead node's requests are claimed again once its leases lapse), runs each at
/// batch priority through the dialect that reads it, records each result once (and, for file input, streams its line
/// to this node's part of the output file: <see cref="BatchOutputFile"/>), and finalizes finished, cancelled and
/// expired jobs (the part is reconciled with the database, flushed, renamed, then committed with the job's end).
/// </summary>
public sealed class BatchWorker(IBatchStore store, IEnumerable<IBatchDialect> dialects, FileContentStore content, FileLimits fileLimits,
    ModelCatalogue catalogue, BatchOptions options, TimeProvider clock, ILogger<BatchWorker> logger) : IDisposable
{
    /// <summary>
    /// The key id of the requests of jobs stored before the submitting key was recorded with each job (requests run under
    /// the key that created their job, so its usage is metered under that key). Batch requests are not online calls
    /// whatever their key: the online rate limits do not count them (the API limits batches separately).
    /// </summary>
    public const string CallerKeyId = "batch";

    private const int FinalizeBatch = 4;
    private readonly Dictionary<string, IBatchDialect> _dialects = dialects.ToDictionary(d => d.Name, StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private BatchOutputFile? _output;
    private bool _woken;

    /// <summary>This node's name on its leases.</summary>
    public string Owner { get; } = "node-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>This node's parts of file batches' output files.</summary>
    private BatchOutputFile Output => LazyInitializer.EnsureInitialized(ref _output, () => new BatchOutputFile(content, Owner));

    /// <summary>Batch requests this node runs at once (see <see cref="BatchOptions.MaxConcurrentRequests"/>).</summary>
    public int Concurrency => options.MaxConcurrentRequests > 0
        ? options.MaxConcurrentRequests
        : Math.Max(1, catalogue.DefaultGenerative?.Description.Parallel ?? 1);

    /// <summary>Work was submitted or cancelled on this node: look now instead of at the next poll.</summary>
    public void Wake()
    {
        Volatile.Write(ref _woken, true);
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var running = new Dictionary<BatchRequestId, Task>();
        var lastRenewal = clock.GetUtcNow();
        var lastLook = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = clock.GetUtcNow();
                // Expiry and finalizing are looked for each poll interval, when work was submitted or cancelled here, and
                // when no more requests wait (a job may just have ended); not on every finished request, each of which
                // wakes this loop: a long job would otherwise pay three transactions per request instead of one.
                var look = Interlocked.Exchange(ref _woken, false) || now - lastLook >= options.PollInterval;
                if (look)
                {
                    await store.ExpireAsync(now, stoppingToken).ConfigureAwait(false);
                    lastLook = now;
                }
                foreach (var id in running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToList()) running.Remove(id);

                var free = Concurrency - running.Count;
                if (free > 0)
                {
                    var claimed = await store.ClaimAsync(Owner, now, now + options.LeaseDuration, free, stoppingToken).ConfigureAwait(false);
                    foreach (var request in claimed)
                        running[request.Id] = RunRequestAsync(request, stoppingToken);
                    look |= claimed.Count < free;
                }
                // Leases are renewed well before they lapse, so no other node ever takes a request this one is running.
                if (running.Count > 0 && now - lastRenewal >= options.LeaseDuration / 3)
                {
                    await store.RenewAsync(Owner, running.Keys.ToList(), now + options.LeaseDuration, stoppingToken).ConfigureAwait(false);
                    lastRenewal = now;
                }
                if (look)
                {
                    foreach (var job in await store.ClaimFinalizeAsync(Owner, now, now + options.LeaseDuration, FinalizeBatch, stoppingToken).ConfigureAwait(false))
                        await FinalizeAsync(job, stoppingToken).ConfigureAwait(false);
                }

                // Sleep until the poll interval passes, work is submitted here, or a running request finishes.
                var wait = options.LeaseDuration / 3 < options.PollInterval ? options.LeaseDuration / 3 : options.PollInterval;
                var waits = running.Values.Append(_wake.WaitAsync(wait, stoppingToken)).ToList();
                await Task.WhenAny(waits).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "The batch worker failed a round; it tries again shortly");
                try
                {
                    await Task.Delay(options.PollInterval, clock, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        // Requests still running when the server stops are not recorded: their leases lapse and they run again.
        try
        {
            await Task.WhenAll(running.Values).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected on shutdown.
        }
    }

    private async Task RunRequestAsync(ClaimedBatchRequest request, CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (!_dialects.TryGetValue(request.Dialect, out var dialect))
        {
            logger.LogError("Batch {Batch} uses the {Dialect} dialect, which this node does not serve", request.Id.BatchId, request.Dialect);
            return;
        }
        BatchRequestResult result;
        try
        {
            // The job's usage is the submitting key's (jobs stored before keys were recorded: the key id "batch").
            var caller = new Caller(request.ProjectId, request.ProjectId, request.SubmitterKeyId ?? CallerKeyId);
            using var metered = UsageContext.Begin(UsageMethodOf(request), batch: true);
            result = await dialect.RunAsync(caller, BatchKinds.Parse(request.Kind), request.Model, request.Request, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (CastorException ex) when (ex.Status is ErrorStatus.Unavailable or ErrorStatus.ResourceExhausted)
        {
            // The engine is full (interactive traffic): leave the request to be claimed again when its lease lapses.
            logger.LogDebug(ex, "Batch request {Batch}/{Position} deferred", request.Id.BatchId, request.Id.Position);
            return;
        }
        catch (CastorException ex)
        {
            result = new BatchRequestResult(false, dialect.ErrorJson(ex), 0, 0);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Batch request {Batch}/{Position} failed", request.Id.BatchId, request.Id.Position);
            result = new BatchRequestResult(false, dialect.ErrorJson(new CastorException(ErrorStatus.Internal, "The request failed inside the server.")), 0, 0);
        }
        if (!await store.CompleteRequestAsync(Owner, request.Id, result, clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false))
        {
            logger.LogWarning("Batch request {Batch}/{Position} finished after its lease was lost; its result was dropped", request.Id.BatchId, request.Id.Position);
            return;
        }
        if (!request.WritesFile) return;
        // Recorded: now its line goes to the output file. Streamed after the commit, so the part holds only recorded
        // results; a line lost here (a crash, a full disk) is written from the database when the job is finalized.
        try
        {
            var line = dialect.OutputLine(BatchKinds.Parse(request.Kind), new StoredBatchRequest(request.Id.Position, request.Key, null,
                result.Succeeded ? BatchRequestState.Succeeded : BatchRequestState.Failed, result.Json));
            await Output.AppendAsync(request.ProjectId, request.Id.BatchId, line, CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Batch request {Batch}/{Position}: its result line could not be streamed; the finalize writes it", request.Id.BatchId, request.Id.Position);
        }
    }

    /// <summary>
    /// Ends a job. For file input this node's part of the output (the results it streamed) is reconciled with the
    /// database and completed from it, flushed, renamed to the output file's name, and only then is the file's row
    /// committed together with the job's end: a crash anywhere before the commit leaves the job unfinalized, and the next
    /// finalize (on any node) writes a file with the same lines.
    /// </summary>
    private async Task FinalizeAsync(StoredBatch job, CancellationToken cancellationToken)
    {
        if (!_dialects.TryGetValue(job.Dialect, out var dialect)) return;
        var counts = await store.CountAsync(job.Id, cancellationToken).ConfigureAwait(false);
        var endState = counts.Succeeded == 0 && counts.Failed > 0 ? BatchState.Failed : BatchState.Succeeded;
        StoredFile? output = null;
        if (job.InputFile is not null)
        {
            var now = clock.GetUtcNow();
            now = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
            var fileId = OutputFileId(job.Id);
            var written = await Output.FinalizeAsync(job, dialect, store, fileId, cancellationToken).ConfigureAwait(false);
            logger.LogDebug("Batch {Batch} output: {Streamed} lines streamed, {Filled} written from the database, {Cut} bytes cut", job.Id,
                written.Streamed, written.Filled, written.CutBytes);
            output = new StoredFile(job.ProjectId, fileId, (job.DisplayName ?? job.Id) + " results", "application/jsonl", written.Size, written.Sha256,
                FileState.Active, null, now, now, now + fileLimits.FileLifetime);
        }
        if (await store.FinalizeAsync(Owner, job.Id, output, endState, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false))
            logger.LogInformation("Batch {Batch} ended: {Succeeded} succeeded, {Failed} failed, {Pending} not run", job.Id, counts.Succeeded, counts.Failed, counts.Pending);
    }

    public void Dispose()
    {
        _wake.Dispose();
        _output?.Dispose();
    }

    /// <summary>Removes every node's streamed parts of a deleted job's output file (the data folder is shared).</summary>
    public void DeleteOutputParts(string projectId, string batchId)
    {
        foreach (var part in content.BatchPartPaths(projectId, batchId))
        {
            try
            {
                File.Delete(part);
            }
            catch (IOException ex)
            {
                logger.LogWarning(ex, "A streamed output part of deleted batch {Batch} could not be removed", batchId);
            }
        }
    }

    /// <summary>The output file's id follows from the job's, so a finalize repeated after a crash writes the same file.</summary>
    public static string OutputFileId(string batchId) => "batch-" + batchId;

    /// <summary>Batch requests are metered under the call that created their job.</summary>
    private static string UsageMethodOf(ClaimedBatchRequest request) =>
        request.Dialect == "openai" ? UsageMethods.OpenAIBatches
        : BatchKinds.Parse(request.Kind) == BatchKind.EmbedContent ? UsageMethods.AsyncBatchEmbedContent
        : UsageMethods.BatchGenerateContent;
}
