using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Castor.Api.Hosting;

/// <summary>
/// Writes a streamed response (SSE events, a JSON array sent piece by piece) into the response's pipe and sends it only
/// when the stream has nothing more ready. Kestrel sends every <c>Response.Body</c> write at once (a chunk and a socket
/// write each, three per SSE event); here an event is serialised straight into the pipe, and a flush goes out when the
/// next update is not there yet. So each token still leaves as soon as the engine has produced it, and when the client
/// or the network is slower than the engine, the events that piled up leave together in one write.
/// </summary>
public sealed class ResponseStreamWriter(PipeWriter pipe) : IDisposable
{
    /// <summary>Unsent bytes after which a flush goes out even though more updates are ready, so the buffer stays small.</summary>
    public const int MaxPendingBytes = 32 * 1024;

    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private readonly Utf8JsonWriter _json = new(pipe, new JsonWriterOptions { SkipValidation = true });
    private long _pending;

    /// <summary>Bytes written and not yet sent.</summary>
    public long PendingBytes => _pending;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        pipe.Write(bytes);
        _pending += bytes.Length;
    }

    /// <summary>Serialises <paramref name="value"/> into the pipe (no intermediate array).</summary>
    public void WriteJson<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        _json.Reset(pipe);
        JsonSerializer.Serialize(_json, value, typeInfo);
        _pending += _json.BytesCommitted;
    }

    /// <summary>One server-sent event: <c>data: {json}</c> and <paramref name="terminator"/> (see <see cref="ServerSentEvents"/>).</summary>
    public void WriteEvent<T>(T value, JsonTypeInfo<T> typeInfo, ReadOnlySpan<byte> terminator)
    {
        Write(DataPrefix);
        WriteJson(value, typeInfo);
        Write(terminator);
    }

    /// <summary>One server-sent event whose JSON is already serialised (an error).</summary>
    public void WriteEvent(ReadOnlySpan<byte> json, ReadOnlySpan<byte> terminator)
    {
        Write(DataPrefix);
        Write(json);
        Write(terminator);
    }

    /// <summary>
    /// Moves <paramref name="updates"/> on, sending what was written first unless the next update is already there
    /// (and little is pending). When sending fails (the client left), the pending move is awaited before the error
    /// propagates, so the caller never disposes the enumerator while its MoveNextAsync still runs.
    /// </summary>
    public async ValueTask<bool> MoveNextAsync<T>(IAsyncEnumerator<T> updates, CancellationToken cancellationToken)
    {
        var next = updates.MoveNextAsync();
        if (_pending > 0 && (!next.IsCompleted || _pending >= MaxPendingBytes))
        {
            try
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                try { await next.ConfigureAwait(false); } catch { /* the flush's error is the one to report */ }
                throw;
            }
        }
        return await next.ConfigureAwait(false);
    }

    public void Dispose() => _json.Dispose();

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        _pending = 0;
        await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
