using System.Text.Json;
using Castor.Application.Errors;
using Castor.Application.Limits;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Hosting;

/// <summary>Reads a JSON request body into a wire type up to the API's size limit, whatever its content type (the API does not insist on one).</summary>
public static class RequestBody
{
    /// <summary>Reads with the adapter's own (source-generated) serializer metadata: each wire names its fields its own way.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) where T : new()
    {
        if (request.ContentLength is > RequestLimits.MaxBodyBytes)
            throw CastorException.InvalidArgument($"Request payload size exceeds the limit: {RequestLimits.MaxBodyBytes} bytes.");

        // An empty body is an empty message, as in protobuf's JSON mapping.
        if (request.ContentLength == 0) return new T();
        var reservation = Reserve(request.HttpContext);
        MemoryStream buffered;
        try
        {
            buffered = await ReadLimitedAsync(request.Body, request.ContentLength, reservation, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (CastorException refused) when (refused.Status == ErrorStatus.Unavailable)
        {
            await DiscardAsync(request, request.HttpContext.RequestAborted).ConfigureAwait(false);
            throw;
        }
        if (buffered.Length == 0 || IsWhitespace(buffered)) return new T();
        RejectUnpairedSurrogates(buffered);
        // From the buffer itself: deserializing from the stream would copy every large string token into a growing
        // buffer of its own first.
        var result = JsonSerializer.Deserialize(buffered.GetBuffer().AsSpan(0, (int)buffered.Length), typeInfo);
        return result ?? throw CastorException.InvalidArgument("Invalid JSON payload received. The body must be a JSON object, not null.");
    }

    /// <summary>
    /// Bodies up to this size are not counted against <c>Limits:RequestBodyMemory</c>: the budget is for the large
    /// ones (thirty 18 MB bodies at once held gigabytes), and small calls must not queue behind them.
    /// </summary>
    public const long UncountedBodyBytes = 64 * 1024;

    /// <summary>
    /// What one buffered body byte costs while the request runs: the UTF-8 buffer, the deserialized strings (UTF-16,
    /// two bytes a character), the prompt rendered from them, its UTF-8 copy and the token array. Measured: an 18 MB
    /// text countTokens allocates about 209 MB (11.6×); the budget is charged this many bytes per body byte.
    /// </summary>
    public const int BodyCostFactor = 12;

    /// <summary>
    /// Reads and drops the rest of a body the server refuses before reading it (over a limit), so the client, which
    /// sends its whole body before it reads the answer, gets the error instead of a reset connection. Nothing is
    /// kept; at most the body limit is read.
    /// </summary>
    public static async Task DiscardAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var chunk = new byte[81920];
        long total = 0;
        try
        {
            int read;
            while (total <= RequestLimits.MaxBodyBytes && (read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                total += read;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away or sent a broken body: the refusal stands either way.
        }
    }

    /// <summary>A reservation in the server's memory budget, released when the response completes; null outside a Castor host.</summary>
    private static MemoryBudget.Reservation? Reserve(HttpContext context)
    {
        if (context.RequestServices?.GetService(typeof(MemoryBudget)) is not MemoryBudget budget) return null;
        var reservation = budget.Reserve();
        context.Response.RegisterForDispose(reservation);
        return reservation;
    }

    /// <summary>
    /// Buffers at most the limit; a chunked body that goes past it is refused without reading the rest. Memory is
    /// reserved before it is held: the declared length at once, a chunked body as it grows (a megabyte at a time).
    /// </summary>
    private static async Task<MemoryStream> ReadLimitedAsync(Stream body, long? declaredLength, MemoryBudget.Reservation? reservation, CancellationToken cancellationToken)
    {
        if (declaredLength is > UncountedBodyBytes)
            reservation?.GrowTo(declaredLength.Value * BodyCostFactor);
        // A declared length sizes the buffer once, instead of doubling it (and copying) up to the next power of two.
        var buffered = declaredLength is > 0 and <= RequestLimits.MaxBodyBytes ? new MemoryStream((int)declaredLength.Value) : new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffered.Length + read > RequestLimits.MaxBodyBytes)
                throw CastorException.InvalidArgument($"Request payload size exceeds the limit: {RequestLimits.MaxBodyBytes} bytes.");
            var total = buffered.Length + read;
            if (total > UncountedBodyBytes && reservation is not null && total * BodyCostFactor > reservation.Bytes)
                reservation.GrowTo(Math.Min(RequestLimits.MaxBodyBytes, total + (1 << 20)) * BodyCostFactor);
            buffered.Write(chunk, 0, read);
        }
        return buffered;
    }

    /// <summary>
    /// A string escape such as <c>"\ud800"</c> is valid JSON syntax but no Unicode text. The serializer refuses it in typed
    /// fields, but fields kept as <see cref="JsonElement"/> (schemas, tools, OpenAI messages) would only fail when read,
    /// deep inside a service. One pass over the escaped strings refuses it up front, naming the field.
    /// </summary>
    private static void RejectUnpairedSurrogates(MemoryStream body)
    {
        var reader = new Utf8JsonReader(body.GetBuffer().AsSpan(0, (int)body.Length), new JsonReaderOptions { MaxDepth = 256 });
        string? property = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped) continue;
                try
                {
                    var text = reader.GetString();
                    if (reader.TokenType == JsonTokenType.PropertyName) property = text;
                }
                catch (InvalidOperationException)
                {
                    var where = property is null ? "" : $" (in '{property}')";
                    throw new CastorException(ErrorStatus.InvalidArgument,
                        $"Invalid JSON payload received. A string{where} is not valid Unicode text (an unpaired UTF-16 surrogate escape such as \\ud800, or invalid UTF-8).",
                        new FieldViolation(property ?? "", "the string is not valid Unicode text."));
                }
            }
        }
        catch (JsonException)
        {
            // Malformed JSON is reported by the deserializer, with its position.
        }
    }

    private static bool IsWhitespace(MemoryStream stream)
    {
        foreach (var b in stream.GetBuffer().AsSpan(0, (int)stream.Length))
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        return true;
    }

    public static CastorException InvalidJson(JsonException ex)
    {
        var path = ex.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
        if (path is not null)
        {
            var description = ex.InnerException is FormatException or InvalidOperationException || ex.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? "the value has the wrong type for this field."
                : "the value is not valid JSON here.";
            return new CastorException(ErrorStatus.InvalidArgument, $"Invalid JSON payload received. Invalid value at '{path}': {description}",
                new FieldViolation(path, description));
        }
        var where = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : "";
        return new CastorException(ErrorStatus.InvalidArgument, $"Invalid JSON payload received. The body is not a valid JSON object{where}.");
    }
}
