namespace Castor.Application.Generation;

/// <summary>
/// A prompt's tokens by modality, as the engine evaluates them: the API's <c>promptTokensDetails</c> (<c>TEXT</c>,
/// <c>IMAGE</c>, <c>AUDIO</c>).
/// </summary>
public sealed record PromptTokenCounts(int Text, int Image = 0, int Audio = 0)
{
    public int Total => Text + Image + Audio;
}
