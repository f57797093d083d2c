using System.Text.Json;
using Castor.Application.Errors;
using Castor.Application.Keys;
using Microsoft.AspNetCore.Http;

namespace Castor.Api.OpenAI.Infrastructure;

/// <summary>
/// Errors on the OpenAI-compatible routes in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, with
/// the HTTP status the OpenAI SDKs turn into their usual exceptions (400 BadRequestError, 401 AuthenticationError,
/// 404 NotFoundError, 429 RateLimitError, 5xx InternalServerError).
/// </summary>
internal sealed class OpenAIErrors : IApiErrorWriter
{
    public static readonly OpenAIErrors Instance = new();

    private OpenAIErrors()
    {
    }

    int IApiErrorWriter.HttpStatus(CastorException error) => HttpStatus(error);

    byte[] IApiErrorWriter.ToJson(CastorException error) => ToJson(error);

    Type IApiErrorWriter.ErrorBodyType => typeof(Wire.OpenAIErrorResponse);

    private static ApiKeyRejected? KeyError(CastorException error) => error.Details.OfType<ApiKeyRejected>().FirstOrDefault();

    public static int HttpStatus(CastorException error) => KeyError(error) is not null ? StatusCodes.Status401Unauthorized : ErrorHttp.StatusCode(error.Status);

    public static byte[] ToJson(CastorException error)
    {
        var keyError = KeyError(error);
        var (type, code) = keyError is not null
            ? ("invalid_request_error", "invalid_api_key")
            : error.Status switch
            {
                ErrorStatus.InvalidArgument or ErrorStatus.FailedPrecondition => ("invalid_request_error", null),
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
            w.WriteString("message", keyError?.Problem == ApiKeyProblem.Missing
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
