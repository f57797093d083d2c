using Castor.Application.Errors;

namespace Castor.Application.Keys;

/// <summary>Why a request was refused before it reached its handler: it carried no key, or one that is unknown or revoked.</summary>
public enum ApiKeyProblem
{
    Missing,
    Invalid,
}

/// <summary>
/// Marks an error as a key failure, so each wire can answer it its own way (the Gemini API: 403 or 400 API_KEY_INVALID;
/// OpenAI clients: 401 invalid_api_key) by the detail's type rather than by reading the message. Not written to any body.
/// </summary>
public sealed record ApiKeyRejected(ApiKeyProblem Problem) : ErrorDetail
{
    /// <summary>The Gemini API's answer to a request without a key (403 PERMISSION_DENIED).</summary>
    public const string MissingKeyMessage =
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

    public static CastorException Missing() => new(ErrorStatus.PermissionDenied, MissingKeyMessage, new ApiKeyRejected(ApiKeyProblem.Missing));
}
