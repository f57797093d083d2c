namespace Castor.Application.Quotas;

/// <summary>The kinds of calls rate limits count, each with its own quota metric names (as the API's 429s name them).</summary>
public enum QuotaOperation
{
    /// <summary>generateContent and streamGenerateContent (and the OpenAI chat completions that map to them), and Live turns.</summary>
    GenerateContent,

    /// <summary>embedContent and batchEmbedContents (each content in a batch is one request, as the API counts them).</summary>
    EmbedContent,
}
