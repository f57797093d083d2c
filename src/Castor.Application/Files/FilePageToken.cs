using System.Globalization;
using Castor.Application.Paging;
using Castor.Storage.Files;

namespace Castor.Application.Files;

/// <summary>Opaque page tokens for files.list: the position after the last file returned (keyset paging, stable under inserts and deletes).</summary>
internal static class FilePageToken
{
    private const string Prefix = "files:";

    public static string Encode(FileCursor cursor) =>
        PageTokens.Encode($"{Prefix}{cursor.CreateTime.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{cursor.Id}");

    public static FileCursor Decode(string token)
    {
        var parts = PageTokens.Decode(token)?.Split(':');
        if (parts is { Length: 3 } && parts[0] + ":" == Prefix &&
            long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) &&
            ticks <= DateTimeOffset.MaxValue.UtcTicks && parts[2].Length is > 0 and <= 40)
            return new FileCursor(new DateTimeOffset(ticks, TimeSpan.Zero), parts[2]);
        throw PageTokens.Invalid();
    }
}
