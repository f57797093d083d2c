namespace Castor.Api.Hosting;

/// <summary>Endpoint metadata: the route runs a model (generation, embeddings, countTokens) and is subject to <see cref="ModelRequestLimitsMiddleware"/>.</summary>
public sealed class ModelRequestMetadata
{
    public static readonly ModelRequestMetadata Instance = new();

    private ModelRequestMetadata()
    {
    }
}
