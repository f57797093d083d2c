using System.Runtime.CompilerServices;
using Castor.Application.Generation;

namespace Castor.Application.Metering;

/// <summary>
/// The stream <see cref="MeteredGenerationService"/> hands out: the same updates, and when reading ends, one report of
/// the last usage seen and how it ended (null: every candidate finished; otherwise the failure, or a cancellation
/// when the reader stopped early, or when the request was cancelled before anyone read it).
/// </summary>
internal sealed class MeteredGenerationStream : GenerationStream
{
    private readonly Action<Usage?, Exception?> _ended;
    private readonly CancellationTokenRegistration _unread;
    private int _reported;
    private int _readStarted;

    public MeteredGenerationStream(GenerationStream inner, Action<Usage?, Exception?> ended, CancellationToken cancellationToken) : base(inner)
    {
        _ended = ended;
        // A client that goes away between the submission and the first read (the response headers failed) never reads
        // the stream, yet its prompt was queued: count it as cancelled then.
        _unread = cancellationToken.Register(() =>
        {
            if (Volatile.Read(ref _readStarted) == 0) Report(null, new OperationCanceledException(cancellationToken));
        });
    }

    private void Report(Usage? usage, Exception? failure)
    {
        // A stream is read once; the guard keeps a second reader, or a cancellation racing the first read, from counting it twice.
        if (Interlocked.Exchange(ref _reported, 1) == 0) _ended(usage, failure);
    }

    public override async IAsyncEnumerable<GenerationUpdate> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Usage? usage = null;
        Exception? failure = new OperationCanceledException("The reader stopped before the generation ended.");
        var finished = new HashSet<int>();
        Interlocked.Exchange(ref _readStarted, 1);
        var updates = base.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false)) break;
                }
                catch (Exception ex)
                {
                    failure = ex;
                    throw;
                }
                var update = updates.Current;
                usage = update.Usage;
                if (update.FinishReason is not null && finished.Add(update.CandidateIndex) && finished.Count == CandidateCount)
                    failure = null;
                yield return update;
            }
            failure = null;
        }
        finally
        {
            await updates.DisposeAsync().ConfigureAwait(false);
            await _unread.DisposeAsync().ConfigureAwait(false);
            Report(usage, failure);
        }
    }
}
