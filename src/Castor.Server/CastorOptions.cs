namespace Castor.Server;

/// <summary>
/// Everything <c>castor serve</c> can be told, bound from the <c>Castor</c> section of appsettings.json / castor.json,
/// from <c>CASTOR_*</c> environment variables, and from flags (in rising order of precedence).
/// </summary>
public sealed class CastorOptions
{
    public const string Section = "Castor";

    /// <summary>Where Kestrel listens (semicolon-separated URLs).</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8787";

    /// <summary>Folders and .gguf files to load models from.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>State folder: SQLite database (castor.db) and, later, uploaded files.</summary>
    public string Data { get; set; } = "data";

    public int Threads { get; set; }
    public int ContextSize { get; set; }
    public int Parallel { get; set; }
    public int MaxQueue { get; set; } = 64;

    /// <summary>Model that Gemini names resolve to; default: the first model found.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Extra names for models: alias → model id.</summary>
    public Dictionary<string, string> Aliases { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Per-model settings by model id; an entry with a Path also defines a model.</summary>
    public Dictionary<string, ModelSettings> ModelSettings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A key to register for the default project at start-up (CASTOR_API_KEY).</summary>
    public string? ApiKey { get; set; }

    public static readonly string DefaultModelsFolder = "models";
}

public sealed class ModelSettings
{
    /// <summary>A .gguf file; names a model with this entry's id.</summary>
    public string? Path { get; set; }

    /// <summary>A llama.cpp template name (chatml, llama3, gemma, …) or "transcript", overriding the GGUF's own.</summary>
    public string? ChatTemplate { get; set; }
    public int? ContextSize { get; set; }
    public string? DisplayName { get; set; }
    public List<string> Aliases { get; set; } = [];
}
