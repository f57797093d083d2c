namespace Castor.Engine.Scheduling;

internal enum ThoughtPhase
{
    Before,
    Thinking,
    Answer,
}
