namespace Castor.Hub;

/// <summary>A pull that failed, with a message written for the person who typed the command (what happened and what to do).</summary>
public sealed class PullException(PullFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public PullFailure Failure { get; } = failure;
}
