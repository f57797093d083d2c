namespace Castor.Application.Backends;

/// <summary>
/// The backend could not continue this request. <see cref="ByRequest"/>: the request itself is at fault (its grammar was
/// too costly to enforce), not the server.
/// </summary>
public sealed record BackendFailed(string Message, bool ByRequest = false) : BackendEvent;
