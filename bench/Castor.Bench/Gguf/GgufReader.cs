using System.Text;

namespace Castor.Bench.Gguf;

/// <summary>A tensor's entry in a GGUF header: dimensions innermost first (ne0 is the row length), offset from the data section.</summary>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<ulong> Dims, uint Type, ulong Offset);

/// <summary>Everything before a GGUF file's tensor data.</summary>
public sealed class GgufHeader
{
    public required uint Version { get; init; }
    public required IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata { get; init; }
    public required IReadOnlyList<GgufTensorInfo> Tensors { get; init; }
    public required uint Alignment { get; init; }
    /// <summary>File offset where tensor data starts (the header padded to <see cref="Alignment"/>).</summary>
    public required long DataOffset { get; init; }

    public GgufValue? Get(string key)
    {
        foreach (var (k, v) in Metadata)
            if (k == key) return v;
        return null;
    }

    public string? GetString(string key) => Get(key) is { Type: GgufType.String } v ? (string)v.Value : null;
}

/// <summary>Reads the header of a GGUF v2/v3 file (metadata and tensor infos; tensor data is not touched).</summary>
public static class GgufReader
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    public const uint DefaultAlignment = 32;

    // Guards against reading a corrupt length as a multi-gigabyte allocation.
    private const ulong MaxStringBytes = 1 << 26;
    private const ulong MaxArrayItems = 1 << 26;

    public static GgufHeader Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    public static GgufHeader Read(Stream stream, string name = "stream")
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadUInt32() != Magic) throw new InvalidDataException($"{name} is not a GGUF file (bad magic).");
            var version = r.ReadUInt32();
            if (version is not (2 or 3)) throw new InvalidDataException($"{name} is GGUF version {version}; only versions 2 and 3 are read.");
            var tensorCount = r.ReadUInt64();
            var kvCount = r.ReadUInt64();
            if (tensorCount > 1 << 20 || kvCount > 1 << 20) throw new InvalidDataException($"{name} has an implausible header ({tensorCount} tensors, {kvCount} keys).");

            var metadata = new List<KeyValuePair<string, GgufValue>>((int)kvCount);
            for (ulong i = 0; i < kvCount; i++)
            {
                var key = ReadString(r);
                var type = (GgufType)r.ReadUInt32();
                metadata.Add(new(key, ReadValue(r, type)));
            }

            var tensors = new List<GgufTensorInfo>((int)tensorCount);
            for (ulong i = 0; i < tensorCount; i++)
            {
                var tensorName = ReadString(r);
                var nDims = r.ReadUInt32();
                if (nDims is 0 or > 4) throw new InvalidDataException($"Tensor {tensorName} has {nDims} dimensions.");
                var dims = new ulong[nDims];
                for (var d = 0; d < nDims; d++) dims[d] = r.ReadUInt64();
                tensors.Add(new GgufTensorInfo(tensorName, dims, r.ReadUInt32(), r.ReadUInt64()));
            }

            var alignment = DefaultAlignment;
            foreach (var (k, v) in metadata)
                if (k == "general.alignment")
                    alignment = checked((uint)v.AsInteger());
            if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new InvalidDataException($"{name} has alignment {alignment}, not a power of two.");
            var position = stream.Position;
            var dataOffset = (position + alignment - 1) / alignment * alignment;
            return new GgufHeader { Version = version, Metadata = metadata, Tensors = tensors, Alignment = alignment, DataOffset = dataOffset };
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name} ends inside its GGUF header.");
        }
    }

    private static string ReadString(BinaryReader r)
    {
        var length = r.ReadUInt64();
        if (length > MaxStringBytes) throw new InvalidDataException($"A GGUF string claims {length} bytes.");
        var bytes = r.ReadBytes((int)length);
        if (bytes.Length != (int)length) throw new EndOfStreamException();
        return Encoding.UTF8.GetString(bytes);
    }

    private static GgufValue ReadValue(BinaryReader r, GgufType type)
    {
        if (type != GgufType.Array) return GgufValue.Scalar(type, ReadScalar(r, type));
        var elementType = (GgufType)r.ReadUInt32();
        if (elementType == GgufType.Array) throw new InvalidDataException("Nested GGUF arrays are not supported.");
        var count = r.ReadUInt64();
        if (count > MaxArrayItems) throw new InvalidDataException($"A GGUF array claims {count} items.");
        var items = new object[count];
        for (ulong i = 0; i < count; i++) items[i] = ReadScalar(r, elementType);
        return GgufValue.Array(elementType, items);
    }

    private static object ReadScalar(BinaryReader r, GgufType type) => type switch
    {
        GgufType.UInt8 => r.ReadByte(),
        GgufType.Int8 => r.ReadSByte(),
        GgufType.UInt16 => r.ReadUInt16(),
        GgufType.Int16 => r.ReadInt16(),
        GgufType.UInt32 => r.ReadUInt32(),
        GgufType.Int32 => r.ReadInt32(),
        GgufType.Float32 => r.ReadSingle(),
        GgufType.Bool => r.ReadByte() != 0,
        GgufType.String => ReadString(r),
        GgufType.UInt64 => r.ReadUInt64(),
        GgufType.Int64 => r.ReadInt64(),
        GgufType.Float64 => r.ReadDouble(),
        _ => throw new InvalidDataException($"Unknown GGUF value type {(uint)type}."),
    };
}
