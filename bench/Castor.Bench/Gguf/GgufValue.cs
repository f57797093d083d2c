namespace Castor.Bench.Gguf;

/// <summary>Metadata value types of the GGUF format (v2/v3).</summary>
public enum GgufType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>The ggml tensor types this benchmark writes (the reader reports any type as its number).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
}

/// <summary>
/// One typed metadata value. Scalars hold the boxed CLR value of their exact type (<see cref="byte"/>, <see cref="uint"/>,
/// <see cref="float"/>, <see cref="string"/>, …); arrays hold <see cref="Items"/> of <see cref="ElementType"/>.
/// Values read from one file are written back unchanged, types included.
/// </summary>
public sealed class GgufValue
{
    private GgufValue(GgufType type, object value, GgufType elementType = GgufType.UInt8)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    public GgufType Type { get; }
    public object Value { get; }
    public GgufType ElementType { get; }
    public IReadOnlyList<object> Items => Type == GgufType.Array ? (IReadOnlyList<object>)Value : throw new InvalidOperationException("Not an array.");

    public static GgufValue String(string value) => new(GgufType.String, value);
    public static GgufValue UInt32(uint value) => new(GgufType.UInt32, value);
    public static GgufValue Int32(int value) => new(GgufType.Int32, value);
    public static GgufValue Float32(float value) => new(GgufType.Float32, value);
    public static GgufValue Bool(bool value) => new(GgufType.Bool, value);
    public static GgufValue Array(GgufType elementType, IReadOnlyList<object> items) => new(GgufType.Array, items, elementType);

    /// <summary>A scalar of any type, checked against the CLR type that type stands for.</summary>
    public static GgufValue Scalar(GgufType type, object value)
    {
        var expected = ClrType(type);
        if (value.GetType() != expected)
            throw new ArgumentException($"A GGUF {type} needs a {expected.Name}, not a {value.GetType().Name}.", nameof(value));
        return new GgufValue(type, value);
    }

    public static Type ClrType(GgufType type) => type switch
    {
        GgufType.UInt8 => typeof(byte),
        GgufType.Int8 => typeof(sbyte),
        GgufType.UInt16 => typeof(ushort),
        GgufType.Int16 => typeof(short),
        GgufType.UInt32 => typeof(uint),
        GgufType.Int32 => typeof(int),
        GgufType.Float32 => typeof(float),
        GgufType.Bool => typeof(bool),
        GgufType.String => typeof(string),
        GgufType.UInt64 => typeof(ulong),
        GgufType.Int64 => typeof(long),
        GgufType.Float64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Arrays have no single CLR type."),
    };

    /// <summary>An integer value of any integer type (token ids are UInt32 in some files and Int32 in others).</summary>
    public long AsInteger() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => checked((long)v),
        long v => v,
        bool v => v ? 1 : 0,
        _ => throw new InvalidOperationException($"A {Type} is not an integer."),
    };

    public override string ToString() => Type switch
    {
        GgufType.Array => $"[{ElementType} × {Items.Count}]",
        GgufType.String => $"\"{Value}\"",
        _ => Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
