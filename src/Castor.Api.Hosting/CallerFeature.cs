using Castor.Application.Keys;

namespace Castor.Api.Hosting;

/// <summary>The authenticated caller of the current request.</summary>
public sealed record CallerFeature(Caller Caller);
