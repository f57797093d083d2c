using System.Text.Json;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.Gemini.Infrastructure;

/// <summary>Writes errors in the Google RPC shape every Gemini client parses: <c>{"error":{"code","message","status","details"}}</c>.</summary>
public sealed class GeminiErrors : IApiErrorWriter
{
    public static readonly GeminiErrors Instance = new();

    private GeminiErrors()
    {
    }

    public static int HttpStatus(ErrorStatus status) => ErrorHttp.StatusCode(status);

    public static string StatusName(ErrorStatus status) => ErrorHttp.StatusName(status);

    int IApiErrorWriter.HttpStatus(CastorException error) => HttpStatus(error.Status);

    byte[] IApiErrorWriter.ToJson(CastorException error) => ToJson(error);

    Type IApiErrorWriter.ErrorBodyType => typeof(Wire.ErrorResponse);

    public static Task WriteAsync(HttpContext context, CastorException error) => ((IApiErrorWriter)Instance).WriteAsync(context, error);

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
            // ApiKeyRejected tells the wires apart a key failure; it is not part of Google's body.
            if (error.Details.Any(d => d is not ApiKeyRejected))
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
                    if (quota.Dimensions is { } dimensions)
                    {
                        w.WriteStartObject("quotaDimensions");
                        foreach (var (k, v) in dimensions) w.WriteString(k, v);
                        w.WriteEndObject();
                    }
                    // int64 in proto3 JSON is a string, as the API sends "quotaValue": "10".
                    if (quota.Value is { } value) w.WriteString("quotaValue", value.ToString(System.Globalization.CultureInfo.InvariantCulture));
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
