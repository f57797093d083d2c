namespace Castor.Api.Hosting;

/// <summary>
/// Endpoint metadata for the API's description only: the JSON type a route's handler reads from its body. Unlike
/// <c>Accepts&lt;T&gt;()</c>, it adds no content-type constraint to routing (clients that send no Content-Type still match).
/// </summary>
public sealed class RequestBodyMetadata(Type type)
{
    /// <summary>The wire type of the body.</summary>
    public Type Type { get; } = type;
}
