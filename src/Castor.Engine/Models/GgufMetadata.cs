using System.Globalization;
using System.Text;

namespace Castor.Engine.Models;

/// <summary>
/// Reads a GGUF file's key-value metadata in managed code, without loading the model or llama.cpp: what
/// <c>castor models</c> shows (architecture, context length, file type, parameter count). Arrays are summarised by
/// type and length (a tokenizer's vocabulary is hundreds of thousands of strings nobody wants printed).
/// </summary>
public static class GgufMetadata
{
    private const uint Magic = 0x46554747; // "GGUF" little-endian

    /// <summary>Each key with its value as text, in file order. Throws <see cref="InvalidDataException"/> for a file that is not GGUF.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: false);
        if (stream.Length < 24 || reader.ReadUInt32() != Magic) throw new InvalidDataException($"{path} is not a GGUF file.");
        var version = reader.ReadUInt32();
        if (version < 2) throw new InvalidDataException($"{path} is GGUF version {version}; only version 2 and later are read.");
        var tensors = reader.ReadUInt64();
        var count = reader.ReadUInt64();
        var entries = new List<KeyValuePair<string, string>> { new("gguf.version", version.ToString(CultureInfo.InvariantCulture)), new("gguf.tensor_count", tensors.ToString(CultureInfo.InvariantCulture)) };
        for (ulong i = 0; i < count; i++)
        {
            var key = ReadString(reader);
            var type = reader.ReadUInt32();
            entries.Add(new(key, ReadValue(reader, type)));
        }
        return entries;
    }

    /// <summary>
    /// llama.cpp's <c>general.file_type</c> (an <c>llama_ftype</c>) as the tag quantized file names carry; null for
    /// an unknown number. Values from llama.h.
    /// </summary>
    public static string? FileTypeName(string? fileType) => fileType switch
    {
        "0" => "F32", "1" => "F16", "2" => "Q4_0", "3" => "Q4_1", "7" => "Q8_0", "8" => "Q5_0", "9" => "Q5_1",
        "10" => "Q2_K", "11" => "Q3_K_S", "12" => "Q3_K_M", "13" => "Q3_K_L", "14" => "Q4_K_S", "15" => "Q4_K_M",
        "16" => "Q5_K_S", "17" => "Q5_K_M", "18" => "Q6_K", "19" => "IQ2_XXS", "20" => "IQ2_XS", "21" => "Q2_K_S",
        "22" => "IQ3_XS", "23" => "IQ3_XXS", "24" => "IQ1_S", "25" => "IQ4_NL", "26" => "IQ3_S", "27" => "IQ3_M",
        "28" => "IQ2_S", "29" => "IQ2_M", "30" => "IQ4_XS", "31" => "IQ1_M", "32" => "BF16", "36" => "TQ1_0", "37" => "TQ2_0",
        "38" => "MXFP4_MOE",
        _ => null,
    };

    private static string ReadValue(BinaryReader reader, uint type) => type switch
    {
        0 => reader.ReadByte().ToString(CultureInfo.InvariantCulture),
        1 => reader.ReadSByte().ToString(CultureInfo.InvariantCulture),
        2 => reader.ReadUInt16().ToString(CultureInfo.InvariantCulture),
        3 => reader.ReadInt16().ToString(CultureInfo.InvariantCulture),
        4 => reader.ReadUInt32().ToString(CultureInfo.InvariantCulture),
        5 => reader.ReadInt32().ToString(CultureInfo.InvariantCulture),
        6 => reader.ReadSingle().ToString(CultureInfo.InvariantCulture),
        7 => reader.ReadByte() != 0 ? "true" : "false",
        8 => ReadString(reader),
        9 => ReadArray(reader),
        10 => reader.ReadUInt64().ToString(CultureInfo.InvariantCulture),
        11 => reader.ReadInt64().ToString(CultureInfo.InvariantCulture),
        12 => reader.ReadDouble().ToString(CultureInfo.InvariantCulture),
        _ => throw new InvalidDataException($"Unknown GGUF value type {type}."),
    };

    private static string ReadArray(BinaryReader reader)
    {
        var itemType = reader.ReadUInt32();
        var length = reader.ReadUInt64();
        var shown = new List<string>();
        for (ulong i = 0; i < length; i++)
        {
            var value = ReadValue(reader, itemType);
            if (i < 8) shown.Add(value);
        }
        return length <= 8 ? $"[{string.Join(", ", shown)}]" : $"[{string.Join(", ", shown)}, … {length} items]";
    }

    private static string ReadString(BinaryReader reader)
    {
        var length = reader.ReadUInt64();
        if (length > 64 << 20) throw new InvalidDataException($"A GGUF string of {length} bytes is not plausible.");
        return Encoding.UTF8.GetString(reader.ReadBytes((int)length));
    }
}
