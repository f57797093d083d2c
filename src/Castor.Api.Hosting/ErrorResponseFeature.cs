using Castor.Application.Errors;

namespace Castor.Api.Hosting;

/// <summary>The error a request answered with (the last one recorded).</summary>
public sealed record ErrorResponseFeature(CastorException Error);
