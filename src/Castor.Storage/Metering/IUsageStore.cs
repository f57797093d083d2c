namespace Castor.Storage.Metering;

/// <summary>Metered usage, summed per hour (see <see cref="UsageBucket"/>); shared by every node of a cluster.</summary>
public interface IUsageStore
{
    /// <summary>Adds the counts to their buckets' rows (creating rows as needed), all or nothing.</summary>
    Task AddAsync(IReadOnlyCollection<KeyValuePair<UsageBucket, UsageCounts>> counts, CancellationToken cancellationToken = default);

    /// <summary>The usage the query selects, per group, model and batch, in group order.</summary>
    Task<IReadOnlyList<UsageTotal>> ReadAsync(UsageQuery query, CancellationToken cancellationToken = default);
}
