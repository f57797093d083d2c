using System.Threading.Channels;
using Castor.Storage.Files;
using Microsoft.Extensions.Logging;

namespace Castor.Application.Files;

/// <summary>
/// Turns PROCESSING files into ACTIVE (or FAILED with the reason): for a PDF, extracts its text once, page by page,
/// next to its bytes, so prompts read text instead of parsing the PDF each time. Files left PROCESSING by a restart
/// are picked up again when <see cref="RunAsync"/> starts.
/// </summary>
public sealed class FileProcessor(IFileStore store, FileContentStore content, FileLimits limits, PdfExtractor pdfs, TimeProvider clock, ILogger<FileProcessor> logger)
{
    /// <summary>
    /// Processing that began this many times and never finished (each time the server stopped during it, as a PDF that
    /// exhausts memory would make it) is not tried again: the file is FAILED at the next start.
    /// </summary>
    public const int MaxAttempts = 2;

    private readonly Channel<StoredFile> _queue = Channel.CreateUnbounded<StoredFile>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(StoredFile file) => _queue.Writer.TryWrite(file);

    /// <summary>Processes queued files until cancelled, one at a time (extraction is CPU-bound; generation needs the cores).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var pending in await store.InStateAsync(FileState.Processing, 10_000, cancellationToken).ConfigureAwait(false))
            {
                if (pending.ProcessingAttempts < MaxAttempts)
                {
                    Enqueue(pending);
                    continue;
                }
                logger.LogWarning("{Project}/{File} was being processed when the server stopped, {Attempts} times; it is marked FAILED",
                    pending.ProjectId, pending.Id, pending.ProcessingAttempts);
                await store.SetStateAsync(pending.ProjectId, pending.Id, FileState.Failed,
                    $"The file could not be processed: reading it did not finish in {pending.ProcessingAttempts} attempts.", clock.GetUtcNow(), cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Files left PROCESSING by a restart wait for the next start; new uploads are still processed.
            logger.LogError(ex, "Could not look up files left PROCESSING");
        }
        await foreach (var file in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await ProcessAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The file stays PROCESSING and is retried at the next start; the worker keeps going.
                logger.LogError(ex, "Processing {Project}/{File} failed", file.ProjectId, file.Id);
            }
        }
    }

    public async Task ProcessAsync(StoredFile file, CancellationToken cancellationToken)
    {
        if (!MediaTypes.IsPdf(file.MimeType))
        {
            await store.SetStateAsync(file.ProjectId, file.Id, FileState.Active, null, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return;
        }

        string? failure = null;
        if (file.SizeBytes > limits.MaxPdfBytes)
        {
            failure = $"The PDF is {file.SizeBytes} bytes; PDFs of at most {limits.MaxPdfBytes} bytes can be read.";
        }
        else
        {
            // Counted before the parse begins, so a parse that takes the server down is not repeated forever.
            if (await store.BeginProcessingAsync(file.ProjectId, file.Id, cancellationToken).ConfigureAwait(false) == 0)
                return; // deleted while queued
            try
            {
                string text;
                await using (var stream = content.OpenRead(file.ProjectId, file.Id))
                    text = await pdfs.ExtractAsync(stream, cancellationToken).ConfigureAwait(false);
                await content.WriteTextAsync(file.ProjectId, file.Id, text, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                return; // deleted while queued
            }
            catch (InvalidDataException ex)
            {
                failure = "The file could not be processed: " + ex.Message;
            }
        }

        var updated = await store.SetStateAsync(file.ProjectId, file.Id, failure is null ? FileState.Active : FileState.Failed, failure, clock.GetUtcNow(), cancellationToken)
            .ConfigureAwait(false);
        if (!updated)
        {
            // Deleted while being processed: drop the text written for it.
            content.DeleteFile(file.ProjectId, file.Id);
        }
    }
}
