namespace Castor.Application.Metering;

/// <summary>The API method a call was made through (see <see cref="UsageMethods"/>) and whether it ran as part of a batch job.</summary>
public sealed record UsageOrigin(string Method, bool Batch);
