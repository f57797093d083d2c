using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castor.Api.Hosting;

/// <summary>
/// Where clients reach this server, for the URLs it hands out (<c>X-Goog-Upload-URL</c>, a file's <c>uri</c> and
/// <c>downloadUri</c>): the configured <c>PublicUrl</c> (<c>CASTOR_PUBLIC_URL</c>; set it behind a proxy), else the address
/// the connection arrived on. Never the request's <c>Host</c> header: any client sets that, and a link built from it
/// could send the next chunk of someone's upload (with their key) to a host of the client's choosing.
/// </summary>
public sealed class PublicUrl
{
    private readonly string? _configured;

    /// <param name="configured">An absolute http(s) URL, e.g. <c>https://castor.example.com</c>; null or empty for the bound address.</param>
    public PublicUrl(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured)) return;
        if (!Uri.TryCreate(configured.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            throw new ArgumentException($"PublicUrl '{configured}' is not an absolute http or https URL without query, fragment or user (e.g. https://castor.example.com).");
        _configured = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary><c>scheme://host[:port][/prefix]</c>, without a trailing slash; request paths are appended to it.</summary>
    public string Base(HttpRequest request)
    {
        if (_configured is not null) return _configured;
        var connection = request.HttpContext.Connection;
        var address = connection.LocalIpAddress;
        if (address is null) return $"{request.Scheme}://localhost{request.PathBase}";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return $"{request.Scheme}://{host}:{connection.LocalPort}{request.PathBase}";
    }

    public static PublicUrl For(HttpContext context) => context.RequestServices.GetService<PublicUrl>() ?? Unset;

    private static readonly PublicUrl Unset = new(null);
}
