using System.Text.Json;
using Castor.Api.Gemini.Infrastructure;
using Castor.Application.Errors;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.OpenAI.Infrastructure;

/// <summary>
/// Errors on the OpenAI-compatible routes in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, with
/// the HTTP status the OpenAI SDKs turn into their usual exceptions (400 BadRequestError, 401 AuthenticationError,
/// 404 NotFoundError, 429 RateLimitError, 5xx InternalServerError).
/// </summary>
internal sealed class OpenAIErrors : IErrorShape
{
    public bool Owns(HttpRequest request) => OpenAIApi.IsOpenAIPath(request.Path);

    public Task WriteAsync(HttpContext context, CastorException error) => Write(context, error);

    public static async Task Write(HttpContext context, CastorException error)
    {
        var response = context.Response;
        response.StatusCode = HttpStatus(error);
        response.ContentType = "application/json; charset=UTF-8";
        await response.Body.WriteAsync(ToJson(error), context.RequestAborted).ConfigureAwait(false);
    }

    private static bool IsKeyError(CastorException error) =>
        error.Message == ApiKeyMiddleware.MissingKeyMessage ||
        error.Details.OfType<ErrorInfo>().Any(i => i.Reason == "API_KEY_INVALID");

    /// <summary>
    /// The services name Gemini fields; an OpenAI client sent other names. Rewrites the error's field (its violation and
    /// its message) with <paramref name="rename"/>, which returns the OpenAI parameter for a service field.
    /// </summary>
    public static CastorException RenameField(CastorException error, Func<string, string> rename)
    {
        if (error.Details.OfType<FieldViolation>().FirstOrDefault() is not { } violation) return error;
        var field = rename(violation.Field);
        if (field == violation.Field) return error;
        return new CastorException(error.Status, error.Message.Replace($"'{violation.Field}'", $"'{field}'", StringComparison.Ordinal),
            error.Details.Select(d => d == violation ? violation with { Field = field } : d).ToArray());
    }

    public static int HttpStatus(CastorException error) => IsKeyError(error) ? StatusCodes.Status401Unauthorized : GeminiErrors.HttpStatus(error.Status);

    public static byte[] ToJson(CastorException error)
    {
        var (type, code) = IsKeyError(error)
            ? ("invalid_request_error", "invalid_api_key")
            : error.Status switch
            {
                ErrorStatus.InvalidArgument or ErrorStatus.FailedPrecondition => ("invalid_request_error", (string?)null),
                ErrorStatus.NotFound => ("invalid_request_error", "model_not_found"),
                ErrorStatus.PermissionDenied => ("permission_error", null),
                ErrorStatus.Unauthenticated => ("authentication_error", "invalid_api_key"),
                ErrorStatus.ResourceExhausted => ("rate_limit_error", "rate_limit_exceeded"),
                ErrorStatus.Unavailable => ("server_error", "overloaded"),
                _ => ("server_error", null),
            };
        if (error.Status == ErrorStatus.NotFound && !error.Message.Contains("model", StringComparison.OrdinalIgnoreCase)) code = null;
        var param = error.Details.OfType<FieldViolation>().FirstOrDefault()?.Field;

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            // OpenAI clients know the key as a bearer token; say how to send it.
            w.WriteString("message", error.Message == ApiKeyMiddleware.MissingKeyMessage
                ? "You didn't provide an API key. Send it in the Authorization header: Authorization: Bearer <key>."
                : error.Message);
            w.WriteString("type", type);
            if (param is null) w.WriteNull("param"); else w.WriteString("param", param);
            if (code is null) w.WriteNull("code"); else w.WriteString("code", code);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
