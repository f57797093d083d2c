namespace Castor.Application.Files;

/// <summary>A file's state as the API reports it: PROCESSING until its text is extracted, then ACTIVE (usable in prompts) or FAILED.</summary>
public enum FileProcessingState
{
    Processing,
    Active,
    Failed,
}
