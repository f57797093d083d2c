namespace Castor.Application.Generation;

/// <summary>
/// A check the generation path runs once a request's prompt is prepared (rendered and tokenized, images and audio
/// counted as the projector encodes them, a cached content's tokens included) and before it is queued to the engine:
/// the seam where rate limits count a request's real input tokens without tokenizing it a second time. It may refuse
/// the request by throwing; nothing has reached the engine then.
/// </summary>
/// <param name="modelId">The local model the prompt was prepared for.</param>
/// <param name="prompt">The prompt's tokens by modality, as <c>usageMetadata.promptTokenCount</c> will report them.</param>
public delegate ValueTask PromptAdmission(string modelId, PromptTokenCounts prompt, CancellationToken cancellationToken);
