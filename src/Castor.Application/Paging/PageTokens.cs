using System.Text;
using Castor.Application.Errors;

namespace Castor.Application.Paging;

/// <summary>Opaque page tokens of the list methods: a short text in unpadded base64url, so clients pass it back unchanged.</summary>
public static class PageTokens
{
    public static string Encode(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The text inside a token, or null when it is not one of ours (standard base64 is read too).</summary>
    public static string? Decode(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64 + new string('=', (4 - base64.Length % 4) % 4)));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static CastorException Invalid() =>
        CastorException.InvalidField("pageToken", "the page token is not valid; pass the nextPageToken of a previous response.");
}
