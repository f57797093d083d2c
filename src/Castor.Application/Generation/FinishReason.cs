namespace Castor.Application.Generation;

/// <summary>Why a candidate ended, in the API's terms.</summary>
public enum FinishReason
{
    Stop,
    MaxTokens,
    /// <summary>The engine failed mid-generation.</summary>
    Other,
}
