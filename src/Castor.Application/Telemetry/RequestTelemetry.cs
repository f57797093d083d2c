namespace Castor.Application.Telemetry;

/// <summary>
/// What the application learned about the HTTP request in flight (its model, its token counts, its time to first token),
/// for the one log line and the per-request metrics the HTTP layer writes when the request ends. The HTTP layer puts
/// one in <see cref="Current"/> before the route runs; the instrumented services fill it. Never prompt text or key material.
/// </summary>
public sealed class RequestTelemetry
{
    private static readonly AsyncLocal<RequestTelemetry?> Ambient = new();

    /// <summary>The request in flight on this logical call path, or null outside one (batch jobs, tests).</summary>
    public static RequestTelemetry? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }

    /// <summary>The model id the request ran on (resolved: an alias or a Gemini name becomes the model's id).</summary>
    public string? Model { get; set; }

    /// <summary>The operation, in OpenTelemetry GenAI's words: generate_content, embeddings.</summary>
    public string? Operation { get; set; }

    public int PromptTokens { get; set; }
    public int OutputTokens { get; set; }

    /// <summary>Whether the prompt's last text may be kept in <see cref="Prompt"/> for the log (Logging:Prompts).</summary>
    public bool CapturePrompt { get; init; }

    /// <summary>The last content's text (at most 2,000 characters), when <see cref="CapturePrompt"/> is on.</summary>
    public string? Prompt { get; set; }

    /// <summary>From the request's start in the application until its first answer text (streamed or not).</summary>
    public TimeSpan? TimeToFirstToken { get; set; }
}
