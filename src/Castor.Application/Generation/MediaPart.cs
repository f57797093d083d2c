using Castor.Engine.Media;

namespace Castor.Application.Generation;

/// <summary>
/// An image or audio clip the model reads itself, decoded and validated (from an <c>inlineData</c> or <c>fileData</c>
/// part, by <see cref="Files.FilePartResolver"/>), in its place among the turn's other parts. <see cref="Resolution"/> is
/// the part's own <c>mediaResolution</c> (null: the request's <c>generationConfig.mediaResolution</c>, else the
/// projector's default).
/// </summary>
public sealed record MediaPart(DecodedMedia Media, MediaResolution? Resolution) : Part;
