using Castor.Storage.Batches;

namespace Castor.Application.Batches;

/// <summary>A batch job as the API describes it: its row and its progress.</summary>
public sealed record BatchJob(StoredBatch Batch, BatchCounts Counts)
{
    public const string NamePrefix = "batches/";

    public string Name => NamePrefix + Batch.Id;
    public BatchKind Kind => BatchKinds.Parse(Batch.Kind);

    /// <summary>Succeeded, failed, cancelled or expired: nothing more will run and the output is final.</summary>
    public bool Done => Batch.Finalized;
}
