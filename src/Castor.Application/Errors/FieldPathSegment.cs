namespace Castor.Application.Errors;

/// <summary>One step of a <see cref="FieldPath"/>: a field by name, or an element of a list by index.</summary>
public readonly record struct FieldPathSegment
{
    private FieldPathSegment(string? name, int index)
    {
        Name = name;
        Index = index;
    }

    /// <summary>The field's name in the internal model (the Gemini API's camelCase); null for an index.</summary>
    public string? Name { get; }

    /// <summary>The list position; meaningful only when <see cref="Name"/> is null.</summary>
    public int Index { get; }

    public bool IsIndex => Name is null;

    public static FieldPathSegment Field(string name) => new(name ?? throw new ArgumentNullException(nameof(name)), -1);

    public static FieldPathSegment Element(int index) =>
        index >= 0 ? new(null, index) : throw new ArgumentOutOfRangeException(nameof(index), index, "an index is never negative.");

    public override string ToString() => Name ?? $"[{Index}]";
}
