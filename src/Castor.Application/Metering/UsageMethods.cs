namespace Castor.Application.Metering;

/// <summary>
/// The method names usage is metered under: the Gemini API's own method names, <c>live</c> for a Live session's turns,
/// and <c>openai.*</c> for the OpenAI-compatible routes.
/// </summary>
public static class UsageMethods
{
    public const string GenerateContent = "generateContent";
    public const string StreamGenerateContent = "streamGenerateContent";
    public const string CountTokens = "countTokens";
    public const string EmbedContent = "embedContent";
    public const string BatchEmbedContents = "batchEmbedContents";
    public const string BatchGenerateContent = "batchGenerateContent";
    public const string AsyncBatchEmbedContent = "asyncBatchEmbedContent";
    public const string Live = "live";
    public const string OpenAIChatCompletions = "openai.chat.completions";
    public const string OpenAIEmbeddings = "openai.embeddings";
    public const string OpenAIBatches = "openai.batches";
}
