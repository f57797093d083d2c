using System.Buffers.Binary;
using System.Text;

namespace Castor.Bench.Gguf;

/// <summary>Produces the values of one row of a tensor (row index counts over every dimension after the first).</summary>
public delegate void RowFiller(long row, Span<float> values);

/// <summary>
/// Writes a GGUF v3 file: magic "GGUF", version 3, tensor count, metadata count, the metadata key/values, the tensor
/// infos (name, dimension count, dimensions innermost first, ggml type, data offset), padding to the alignment, then
/// each tensor's data padded to the alignment. Tensor data is generated row by row, so a file of any size is
/// written with one row's worth of memory. F32, F16 and Q8_0 (blocks of 32 int8 with one F16 scale) are supported.
/// </summary>
public sealed class GgufWriter
{
    public const uint Version = 3;
    public const int Q8BlockSize = 32;
    private const int Q8BlockBytes = 2 + Q8BlockSize;

    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<Tensor> _tensors = [];

    public GgufWriter(uint alignment = GgufReader.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new ArgumentException("The alignment must be a power of two.", nameof(alignment));
        Alignment = alignment;
        if (alignment != GgufReader.DefaultAlignment) Add("general.alignment", GgufValue.UInt32(alignment));
    }

    public uint Alignment { get; }

    public void Add(string key, GgufValue value)
    {
        if (_metadata.Any(kv => kv.Key == key)) throw new ArgumentException($"Metadata key {key} is already set.", nameof(key));
        _metadata.Add(new(key, value));
    }

    /// <summary>Adds a tensor; <paramref name="dims"/> lists the row length first (GGUF order), e.g. [n_embd, n_vocab].</summary>
    public void AddTensor(string name, GgmlType type, long[] dims, RowFiller fill)
    {
        if (dims.Length is 0 or > 4 || dims.Any(d => d <= 0)) throw new ArgumentException($"Tensor {name} has invalid dimensions.", nameof(dims));
        if (type == GgmlType.Q8_0 && dims[0] % Q8BlockSize != 0)
            throw new ArgumentException($"Tensor {name}: Q8_0 needs rows that are a multiple of {Q8BlockSize} long (got {dims[0]}).", nameof(dims));
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"Tensor {name} is already added.", nameof(name));
        _tensors.Add(new Tensor(name, type, dims, fill));
    }

    public static long RowBytes(GgmlType type, long rowLength) => type switch
    {
        GgmlType.F32 => rowLength * 4,
        GgmlType.F16 => rowLength * 2,
        GgmlType.Q8_0 => rowLength / Q8BlockSize * Q8BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Writes the file (to a temporary name first, so a half-written file is never mistaken for a finished one).</summary>
    public void WriteTo(string path, Action<string>? progress = null)
    {
        var temp = path + ".partial";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Write(file, progress);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public void Write(Stream output, Action<string>? progress = null)
    {
        using var w = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufReader.Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }

        ulong offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write(offset);
            offset += (ulong)Align(t.Bytes);
        }
        w.Flush();
        Pad(w, output.Position);

        var dataStart = output.Position;
        foreach (var t in _tensors)
        {
            progress?.Invoke(t.Name);
            var rowLength = (int)t.Dims[0];
            var rows = t.Dims.Skip(1).Aggregate(1L, (a, b) => a * b);
            var values = new float[rowLength];
            var encoded = new byte[RowBytes(t.Type, rowLength)];
            var start = output.Position;
            for (long row = 0; row < rows; row++)
            {
                Array.Clear(values);
                t.Fill(row, values);
                Encode(t.Type, values, encoded);
                w.Write(encoded);
            }
            w.Flush();
            if (output.Position - start != t.Bytes) throw new InvalidOperationException($"Tensor {t.Name}: wrote {output.Position - start} bytes, expected {t.Bytes}.");
            Pad(w, output.Position - dataStart);
        }
        w.Flush();
    }

    private long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private void Pad(BinaryWriter w, long position)
    {
        var padding = Align(position) - position;
        for (var i = 0; i < padding; i++) w.Write((byte)0);
    }

    private static void Encode(GgmlType type, ReadOnlySpan<float> values, Span<byte> output)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(output[(i * 4)..], values[i]);
                break;
            case GgmlType.F16:
                for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(output[(i * 2)..], (Half)values[i]);
                break;
            case GgmlType.Q8_0:
                QuantizeQ8_0(values, output);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    /// <summary>ggml's reference Q8_0: per block of 32, d = max|x| / 127 stored as F16, q = round(x / d).</summary>
    public static void QuantizeQ8_0(ReadOnlySpan<float> values, Span<byte> output)
    {
        for (int block = 0, o = 0; block < values.Length; block += Q8BlockSize, o += Q8BlockBytes)
        {
            var x = values.Slice(block, Q8BlockSize);
            var amax = 0f;
            foreach (var v in x) amax = MathF.Max(amax, MathF.Abs(v));
            var d = amax / 127f;
            var id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(output[o..], (Half)d);
            for (var j = 0; j < Q8BlockSize; j++)
                output[o + 2 + j] = unchecked((byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        if (value.Type != GgufType.Array)
        {
            WriteScalar(w, value.Type, value.Value);
            return;
        }
        w.Write((uint)value.ElementType);
        w.Write((ulong)value.Items.Count);
        foreach (var item in value.Items) WriteScalar(w, value.ElementType, item);
    }

    private static void WriteScalar(BinaryWriter w, GgufType type, object v)
    {
        switch (type)
        {
            case GgufType.UInt8: w.Write((byte)v); break;
            case GgufType.Int8: w.Write((sbyte)v); break;
            case GgufType.UInt16: w.Write((ushort)v); break;
            case GgufType.Int16: w.Write((short)v); break;
            case GgufType.UInt32: w.Write((uint)v); break;
            case GgufType.Int32: w.Write((int)v); break;
            case GgufType.Float32: w.Write((float)v); break;
            case GgufType.Bool: w.Write((byte)((bool)v ? 1 : 0)); break;
            case GgufType.String: WriteString(w, (string)v); break;
            case GgufType.UInt64: w.Write((ulong)v); break;
            case GgufType.Int64: w.Write((long)v); break;
            case GgufType.Float64: w.Write((double)v); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    private sealed record Tensor(string Name, GgmlType Type, long[] Dims, RowFiller Fill)
    {
        public long Bytes { get; } = RowBytes(Type, Dims[0]) * Dims.Skip(1).Aggregate(1L, (a, b) => a * b);
    }
}
