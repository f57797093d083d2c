namespace Castor.Hub;

/// <summary>
/// Where models are pulled from: a Hugging Face hub (or anything serving its URL scheme, such as a mirror or a test
/// server) and the token for gated or private repositories.
/// </summary>
public sealed class HubOptions
{
    /// <summary>The hub Hugging Face's own tools use when <c>HF_ENDPOINT</c> is not set.</summary>
    public const string DefaultUrl = "https://huggingface.co";

    /// <summary>The hub's base URL (<c>Hub:Url</c>); unset: <c>HF_ENDPOINT</c>, else huggingface.co.</summary>
    public string? Url { get; set; }

    /// <summary>A Hugging Face access token (<c>Hub:Token</c>); unset: <c>HF_TOKEN</c>. Sent only to the hub, never to the CDN it redirects to.</summary>
    public string? Token { get; set; }

    /// <summary>What <c>castor serve</c> pulls on first run, when the models folder is empty and no <c>--models</c> was given.</summary>
    public string DefaultModel { get; set; } = KnownModels.FirstRunModel;

    /// <summary>The base URL in effect: configuration, then <c>HF_ENDPOINT</c>, then huggingface.co; without a trailing slash.</summary>
    public Uri ResolveUrl()
    {
        var url = Url;
        if (string.IsNullOrWhiteSpace(url)) url = Environment.GetEnvironmentVariable("HF_ENDPOINT");
        if (string.IsNullOrWhiteSpace(url)) url = DefaultUrl;
        if (!Uri.TryCreate(url.TrimEnd('/'), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"The hub URL '{url}' (Hub:Url or HF_ENDPOINT) is not an http(s) URL.");
        return uri;
    }

    /// <summary>The token in effect: configuration, then <c>HF_TOKEN</c>; null when neither is set.</summary>
    public string? ResolveToken()
    {
        var token = string.IsNullOrWhiteSpace(Token) ? Environment.GetEnvironmentVariable("HF_TOKEN") : Token;
        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }
}
