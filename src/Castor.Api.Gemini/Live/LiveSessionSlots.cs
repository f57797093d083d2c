namespace Castor.Api.Gemini.Live;

/// <summary>Counts open Live sessions against <c>Live:MaxSessions</c>.</summary>
internal sealed class LiveSessionSlots(int capacity)
{
    private int _open;

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _open) <= capacity) return true;
        Interlocked.Decrement(ref _open);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _open);
}
