using System.Text;

namespace Castor.Engine.Media;

/// <summary>
/// Reads the string-valued metadata of a GGUF file's header, skipping every other value: enough to learn a projector's
/// type (<c>clip.projector_type</c>) without going through llama.cpp, whose accessor for it LLamaSharp does not wrap.
/// </summary>
internal static class GgufStrings
{
    private const uint Magic = 0x46554747;
    private const ulong MaxLength = 1 << 26;

    /// <summary>The file's string values; with <paramref name="only"/>, stops once that key is read (it is near the top).</summary>
    public static Dictionary<string, string> Read(string path, string? only = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        if (r.ReadUInt32() != Magic) throw new InvalidDataException($"{path} is not a GGUF file.");
        var version = r.ReadUInt32();
        if (version is not (2 or 3)) throw new InvalidDataException($"{path} is GGUF version {version}; only 2 and 3 are read.");
        r.ReadUInt64();
        var count = r.ReadUInt64();
        var strings = new Dictionary<string, string>(StringComparer.Ordinal);
        for (ulong i = 0; i < count && i < 1 << 20; i++)
        {
            var key = ReadString(r);
            var type = r.ReadUInt32();
            if (type == 8) strings[key] = ReadString(r);
            else Skip(r, type);
            if (only is not null && key == only) break;
        }
        return strings;
    }

    private static string ReadString(BinaryReader r)
    {
        var length = r.ReadUInt64();
        if (length > MaxLength) throw new InvalidDataException("A GGUF string is implausibly long.");
        return Encoding.UTF8.GetString(r.ReadBytes((int)length));
    }

    private static void Skip(BinaryReader r, uint type)
    {
        switch (type)
        {
            case 0 or 1 or 7: r.ReadByte(); break;
            case 2 or 3: r.ReadUInt16(); break;
            case 4 or 5 or 6: r.ReadUInt32(); break;
            case 10 or 11 or 12: r.ReadUInt64(); break;
            case 8: ReadString(r); break;
            case 9:
                var element = r.ReadUInt32();
                var items = r.ReadUInt64();
                if (items > MaxLength) throw new InvalidDataException("A GGUF array is implausibly long.");
                for (ulong i = 0; i < items; i++) Skip(r, element);
                break;
            default: throw new InvalidDataException($"Unknown GGUF value type {type}.");
        }
    }
}
