namespace Castor.Application.Generation;

/// <summary>One turn of the conversation. Roles are the API's: <c>user</c> or <c>model</c>.</summary>
public sealed record Content(string Role, IReadOnlyList<Part> Parts)
{
    public const string UserRole = "user";
    public const string ModelRole = "model";
}
