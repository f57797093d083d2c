namespace Castor.Application.Live;

/// <summary>
/// What a Live session needs to be continued on another connection (or node): its id, its model, and the protocol
/// adapter's setup and conversation as JSON, which this layer keeps without reading.
/// </summary>
public sealed record ResumableLiveSession(string Id, string Model, string Setup, string Conversation);
