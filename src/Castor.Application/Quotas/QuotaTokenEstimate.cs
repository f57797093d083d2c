using Castor.Application.Generation;

namespace Castor.Application.Quotas;

/// <summary>
/// An embedding request's input tokens guessed from its parts before any work (about four characters a token; an
/// image, audio or file part as the API's 258 tokens per image), so its TPM check costs no tokenization; the limiter
/// replaces the guess with the count the model read. Generation needs no guess: its TPM check runs on the prepared
/// prompt (<see cref="Generation.GenerationRequest.Admission"/>).
/// </summary>
public static class QuotaTokenEstimate
{
    private const int MediaPartTokens = 258;

    public static long Of(GenerationRequest request)
    {
        long tokens = request.SystemInstruction is { } system ? Of(system) : 0;
        foreach (var content in request.Contents) tokens += Of(content);
        return tokens;
    }

    public static long Of(Content? content)
    {
        if (content is null) return 0;
        long tokens = 0;
        foreach (var part in content.Parts)
        {
            tokens += part switch
            {
                TextPart text => OfText(text.Text),
                InlineDataPart or FileDataPart => MediaPartTokens,
                FunctionCallPart call => OfText(call.Name) + OfText(call.Args?.GetRawText()),
                FunctionResponsePart response => OfText(response.Name) + OfText(response.Response?.GetRawText()),
                _ => 0,
            };
        }
        return tokens;
    }

    public static long OfText(string? text) => string.IsNullOrEmpty(text) ? 0 : (text.Length + 3) / 4;
}
