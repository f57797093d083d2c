using System.Globalization;
using System.Text;
using Castor.Application.Errors;
using Castor.Storage.Files;

namespace Castor.Application.Files;

/// <summary>Opaque page tokens for files.list: the position after the last file returned (keyset paging, stable under inserts and deletes).</summary>
internal static class FilePageToken
{
    private const string Prefix = "files:";

    public static string Encode(FileCursor cursor) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Prefix}{cursor.CreateTime.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{cursor.Id}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static FileCursor Decode(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64 + new string('=', (4 - base64.Length % 4) % 4)));
            var parts = text.Split(':');
            if (parts.Length == 3 && parts[0] + ":" == Prefix &&
                long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) &&
                ticks <= DateTimeOffset.MaxValue.UtcTicks && parts[2].Length is > 0 and <= 40)
                return new FileCursor(new DateTimeOffset(ticks, TimeSpan.Zero), parts[2]);
        }
        catch (FormatException)
        {
        }
        throw CastorException.InvalidField("pageToken", "the page token is not valid; pass the nextPageToken of a previous response.");
    }
}
