namespace Castor.Api.Hosting;

/// <summary>Endpoint metadata for the API's description only: the operations a catch-all route serves (see <see cref="DescribedOperation"/>).</summary>
public sealed class DescribedOperationsMetadata(IReadOnlyList<DescribedOperation> operations)
{
    public IReadOnlyList<DescribedOperation> Operations { get; } = operations;
}
