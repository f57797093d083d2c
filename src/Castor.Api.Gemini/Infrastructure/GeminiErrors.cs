using System.Text.Json;
using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Infrastructure;

/// <summary>Writes errors in the Google RPC shape every Gemini client parses: <c>{"error":{"code","message","status","details"}}</c>.</summary>
public static class GeminiErrors
{
    public static int HttpStatus(ErrorStatus status) => status switch
    {
        ErrorStatus.InvalidArgument or ErrorStatus.FailedPrecondition => StatusCodes.Status400BadRequest,
        ErrorStatus.Unauthenticated => StatusCodes.Status401Unauthorized,
        ErrorStatus.PermissionDenied => StatusCodes.Status403Forbidden,
        ErrorStatus.NotFound => StatusCodes.Status404NotFound,
        ErrorStatus.AlreadyExists => StatusCodes.Status409Conflict,
        ErrorStatus.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        ErrorStatus.Cancelled => 499,
        ErrorStatus.Unimplemented => StatusCodes.Status501NotImplemented,
        ErrorStatus.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorStatus.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static string StatusName(ErrorStatus status) => status switch
    {
        ErrorStatus.InvalidArgument => "INVALID_ARGUMENT",
        ErrorStatus.FailedPrecondition => "FAILED_PRECONDITION",
        ErrorStatus.Unauthenticated => "UNAUTHENTICATED",
        ErrorStatus.PermissionDenied => "PERMISSION_DENIED",
        ErrorStatus.NotFound => "NOT_FOUND",
        ErrorStatus.AlreadyExists => "ALREADY_EXISTS",
        ErrorStatus.ResourceExhausted => "RESOURCE_EXHAUSTED",
        ErrorStatus.Cancelled => "CANCELLED",
        ErrorStatus.Unimplemented => "UNIMPLEMENTED",
        ErrorStatus.Unavailable => "UNAVAILABLE",
        ErrorStatus.DeadlineExceeded => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };

    public static async Task WriteAsync(HttpContext context, CastorException error)
    {
        var response = context.Response;
        response.StatusCode = HttpStatus(error.Status);
        response.ContentType = "application/json; charset=UTF-8";
        await response.Body.WriteAsync(ToJson(error), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The error body as UTF-8 JSON on one line (also used as a mid-stream SSE event).</summary>
    public static byte[] ToJson(CastorException error)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteNumber("code", HttpStatus(error.Status));
            w.WriteString("message", error.Message);
            w.WriteString("status", StatusName(error.Status));
            if (error.Details.Count > 0)
            {
                w.WriteStartArray("details");
                var violations = error.Details.OfType<FieldViolation>().ToList();
                if (violations.Count > 0)
                {
                    w.WriteStartObject();
                    w.WriteString("@type", "type.googleapis.com/google.rpc.BadRequest");
                    w.WriteStartArray("fieldViolations");
                    foreach (var v in violations)
                    {
                        w.WriteStartObject();
                        w.WriteString("field", v.Field);
                        w.WriteString("description", v.Description);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                foreach (var info in error.Details.OfType<ErrorInfo>())
                {
                    w.WriteStartObject();
                    w.WriteString("@type", "type.googleapis.com/google.rpc.ErrorInfo");
                    w.WriteString("reason", info.Reason);
                    w.WriteString("domain", info.Domain);
                    w.WriteStartObject("metadata");
                    foreach (var (k, v) in info.Metadata) w.WriteString(k, v);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                foreach (var quota in error.Details.OfType<QuotaViolation>())
                {
                    w.WriteStartObject();
                    w.WriteString("@type", "type.googleapis.com/google.rpc.QuotaFailure");
                    w.WriteStartArray("violations");
                    w.WriteStartObject();
                    w.WriteString("quotaMetric", quota.QuotaMetric);
                    w.WriteString("quotaId", quota.QuotaId);
                    w.WriteString("description", quota.Description);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                foreach (var retry in error.Details.OfType<RetryDelay>())
                {
                    w.WriteStartObject();
                    w.WriteString("@type", "type.googleapis.com/google.rpc.RetryInfo");
                    // google.protobuf.Duration in JSON: seconds with an "s" suffix, as the API sends "retryDelay": "1s".
                    w.WriteString("retryDelay", $"{(long)Math.Ceiling(retry.Delay.TotalSeconds)}s");
                    w.WriteEndObject();
                }
                var links = error.Details.OfType<HelpLink>().ToList();
                if (links.Count > 0)
                {
                    w.WriteStartObject();
                    w.WriteString("@type", "type.googleapis.com/google.rpc.Help");
                    w.WriteStartArray("links");
                    foreach (var l in links)
                    {
                        w.WriteStartObject();
                        w.WriteString("description", l.Description);
                        w.WriteString("url", l.Url);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
