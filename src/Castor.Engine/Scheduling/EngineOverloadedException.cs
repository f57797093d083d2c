namespace Castor.Engine.Scheduling;

/// <summary>Thrown at submission when the wait queue is full: the caller gets an immediate 503 instead of unbounded latency.</summary>
public sealed class EngineOverloadedException(string model) : Exception($"The wait queue of model '{model}' is full.");
