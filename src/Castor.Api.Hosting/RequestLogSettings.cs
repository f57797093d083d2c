namespace Castor.Api.Hosting;

/// <summary>What the one log line per request may hold beyond its facts.</summary>
public sealed class RequestLogSettings
{
    /// <summary>Log the prompt's last text (Logging:Prompts); off by default, since prompts are the users' data.</summary>
    public bool Prompts { get; set; }
}
