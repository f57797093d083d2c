namespace Castor.Api.Hosting;

/// <summary>
/// Line breaks written while a stream waits for its first update (in the queue, then prefilling its prompt). HTTP
/// clients give up on a response body that stays silent: Node's fetch (undici, which Gemini CLI configures) after
/// 300 s, common proxies after 60 s; a long prompt on a CPU takes longer than that (Gemini CLI's ~26 K-token first
/// request on a loaded 2-core machine did), and the client then resends the whole prompt. A bare line break is what
/// every reader skips: in SSE an empty event dispatches nothing (the Google and OpenAI SDKs' parsers both skip it), the
/// Google SDKs' <c>data:</c> matchers skip leading whitespace, and JSON allows whitespace before the array opens.
/// </summary>
public static class StreamKeepAlive
{
    /// <summary>Well under the shortest idle timeouts above.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private static readonly byte[] LineBreak = "\r\n"u8.ToArray();

    /// <summary>
    /// Awaits <paramref name="next"/> (an enumerator's MoveNextAsync), writing and flushing a line break to
    /// <paramref name="body"/> each <paramref name="interval"/> until it completes. It always returns or throws through
    /// <paramref name="next"/>'s outcome, so the caller never disposes the enumerator while that call still runs.
    /// </summary>
    public static async ValueTask<bool> AwaitAsync(ValueTask<bool> next, Stream body, TimeSpan interval, CancellationToken cancellationToken)
    {
        if (next.IsCompleted)
            return await next.ConfigureAwait(false);

        var pending = next.AsTask();
        using var timer = new PeriodicTimer(interval);
        var writing = true;
        while (true)
        {
            var tick = timer.WaitForNextTickAsync(CancellationToken.None).AsTask();
            if (await Task.WhenAny(pending, tick).ConfigureAwait(false) == pending)
                return await pending.ConfigureAwait(false);
            if (!writing)
                continue;
            try
            {
                await body.WriteAsync(LineBreak, cancellationToken).ConfigureAwait(false);
                await body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client is gone (or the request ended): the generation sees the same abort through its own
                // token; wait for it, so its outcome is what the caller handles.
                writing = false;
            }
        }
    }
}
