namespace Castor.Application.Files;

/// <summary>
/// Reads PDFs (uploaded files and inline parts alike) at most <see cref="FileLimits.MaxConcurrentPdfParses"/> at a
/// time, each within <see cref="FileLimits"/>' page, decoded-byte and text limits: the server's memory for PDFs is
/// bounded by the cap times one document's budget, however many arrive at once.
/// </summary>
public sealed class PdfExtractor(FileLimits limits) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(Math.Max(1, limits.MaxConcurrentPdfParses));

    public void Dispose() => _gate.Dispose();

    private PdfLimits Limits => new(limits.MaxPdfPages, limits.MaxPdfDecodedBytes, limits.MaxPromptTextBytes);

    /// <summary>The PDF's text (see <see cref="PdfText.Extract"/>); waits for a free slot, cancellably.</summary>
    public async Task<string> ExtractAsync(Stream pdf, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Parsing is synchronous CPU work: off the caller's thread, and not cancellable once begun.
            return await Task.Run(() => PdfText.Extract(pdf, Limits), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
