namespace Castor.Application.Backends;

/// <summary>What a running generation streams back; the concrete events follow.</summary>
public abstract record BackendEvent;
