namespace Castor.Application.Generation;

/// <summary>Why a candidate ended, in the API's terms.</summary>
public enum FinishReason
{
    Stop,
    MaxTokens,
    /// <summary>Generation ended inside a function call (the token limit cut it), so it could not be parsed.</summary>
    MalformedFunctionCall,
    /// <summary>The engine failed mid-generation.</summary>
    Other,
}
