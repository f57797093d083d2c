namespace Castor.Engine.Scheduling;

/// <summary>
/// Which requests start first when they wait for a free sequence: every waiting interactive request before any batch
/// one (batch prediction, background work), and within one priority in arrival order.
/// </summary>
public enum EnginePriority
{
    Interactive,
    Batch,
}
