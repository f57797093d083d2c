namespace Castor.Server;

/// <summary>The <c>Logging</c> section of the Castor settings: the console's format and what a request's line may hold.</summary>
public sealed class LogOptions
{
    /// <summary><c>simple</c> (one line per entry, the default) or <c>json</c> (one JSON object per entry; <c>--log-format json</c>).</summary>
    public string Format { get; set; } = "simple";

    /// <summary>Add the prompt's last text to the request log line. Off by default: prompts are the users' data.</summary>
    public bool Prompts { get; set; }
}
