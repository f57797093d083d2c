using System.Runtime.CompilerServices;
using Castor.Application.Generation;

namespace Castor.Application.Metering;

/// <summary>
/// The stream <see cref="MeteredGenerationService"/> hands out: the same updates, and when reading ends, one report of
/// the last usage seen and how it ended (null: every candidate finished; otherwise the failure, or a cancellation
/// when the reader stopped early).
/// </summary>
internal sealed class MeteredGenerationStream(GenerationStream inner, Action<Usage?, Exception?> ended) : GenerationStream(inner)
{
    private int _reported;

    public override async IAsyncEnumerable<GenerationUpdate> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Usage? usage = null;
        Exception? failure = new OperationCanceledException("The reader stopped before the generation ended.");
        var finished = new HashSet<int>();
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
            // A stream is read once; the guard keeps a second reader from counting the request twice.
            if (Interlocked.Exchange(ref _reported, 1) == 0) ended(usage, failure);
        }
    }
}
