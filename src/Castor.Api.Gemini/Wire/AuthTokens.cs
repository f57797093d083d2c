namespace Castor.Api.Gemini.Wire;

/// <summary>AuthToken: the body of <c>auth_tokens.create</c> and its answer (<c>name</c> is the token).</summary>
internal sealed class AuthTokenResource
{
    public string? Name { get; set; }
    public string? ExpireTime { get; set; }
    public string? NewSessionExpireTime { get; set; }
    public int? Uses { get; set; }
    public LiveSetup? BidiGenerateContentSetup { get; set; }
    public string? FieldMask { get; set; }
}
