using System.Text.Json;

namespace Castor.Application.Generation;

/// <summary>A piece of content. Adapters translate every part kind the wire knows; services decide which they can use.</summary>
public abstract record Part
{
    /// <summary>Opaque signature a client echoes back; kept untouched.</summary>
    public string? ThoughtSignature { get; init; }
}

public sealed record TextPart(string Text) : Part
{
    /// <summary>True for thought summaries the model produced.</summary>
    public bool Thought { get; init; }
}

/// <summary>Bytes sent inline (base64 on the wire).</summary>
public sealed record InlineDataPart(string MimeType, string Base64Data) : Part
{
    /// <summary>The part's <c>mediaResolution.level</c>, for an image; null when not set.</summary>
    public MediaResolution? MediaResolution { get; init; }
}

/// <summary>A reference to an uploaded file or a URL.</summary>
public sealed record FileDataPart(string? MimeType, string FileUri) : Part
{
    /// <inheritdoc cref="InlineDataPart.MediaResolution"/>
    public MediaResolution? MediaResolution { get; init; }
}

public sealed record FunctionCallPart(string Name, JsonElement? Args, string? Id) : Part;

public sealed record FunctionResponsePart(string Name, JsonElement? Response, string? Id) : Part;

/// <summary>A part kind Castor cannot use at all (executable code, tool calls of server-side tools, …); <see cref="Kind"/> is its wire name.</summary>
public sealed record OtherPart(string Kind) : Part;
