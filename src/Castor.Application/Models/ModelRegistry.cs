using Castor.Application.Errors;
using Castor.Engine.Models;

namespace Castor.Application.Models;

/// <summary>
/// Knows every model this server can answer with and resolves the names clients send: local model ids,
/// configured aliases, and Gemini model names (which alias the default generative model so unchanged client
/// code works). Accepts the <c>models/</c> prefix everywhere.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    /// <summary>Gemini names listed explicitly so clients that look them up in models.list find them.</summary>
    public static readonly IReadOnlyList<string> WellKnownGeminiNames =
    [
        "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash", "gemini-2.0-flash-lite",
        "gemini-flash-latest", "gemini-flash-lite-latest", "gemini-pro-latest",
    ];

    private readonly Dictionary<string, LlamaModel> _models;
    private readonly Dictionary<string, string> _aliases;

    public ModelRegistry(IReadOnlyList<LlamaModel> models, IReadOnlyDictionary<string, string>? aliases = null, string? defaultModel = null)
    {
        Models = models;
        _models = models.ToDictionary(m => m.Id, StringComparer.OrdinalIgnoreCase);
        _aliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, target) in aliases ?? new Dictionary<string, string>())
        {
            var targetId = StripPrefix(target);
            if (!_models.ContainsKey(targetId))
                throw new InvalidOperationException($"Alias '{alias}' points to '{target}', which is not a loaded model. Loaded: {string.Join(", ", _models.Keys)}.");
            _aliases[StripPrefix(alias)] = targetId;
        }

        if (!string.IsNullOrWhiteSpace(defaultModel))
        {
            var id = StripPrefix(defaultModel);
            if (!_models.TryGetValue(id, out var chosen) && !(_aliases.TryGetValue(id, out var aliased) && _models.TryGetValue(aliased, out chosen)))
                throw new InvalidOperationException($"The default model '{defaultModel}' is not a loaded model. Loaded: {string.Join(", ", _models.Keys)}.");
            DefaultGenerative = chosen;
        }
        else
        {
            DefaultGenerative = models.FirstOrDefault();
        }
    }

    public IReadOnlyList<LlamaModel> Models { get; }

    /// <summary>The model Gemini names resolve to; null when no generative model is installed.</summary>
    public LlamaModel? DefaultGenerative { get; }

    /// <summary>Configured aliases and the listed Gemini names, with the model each resolves to.</summary>
    public IReadOnlyList<(string Alias, LlamaModel Target)> Aliases
    {
        get
        {
            var list = _aliases.Select(a => (a.Key, _models[a.Value])).OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
            if (DefaultGenerative is { } fallback)
                foreach (var name in WellKnownGeminiNames)
                    if (!_aliases.ContainsKey(name) && !_models.ContainsKey(name))
                        list.Add((name, fallback));
            return list;
        }
    }

    public static string StripPrefix(string name) =>
        name.StartsWith("models/", StringComparison.Ordinal) ? name["models/".Length..] : name;

    /// <summary>Resolves a client-supplied name to a generative model, or throws the API's error for it.</summary>
    public LlamaModel ResolveGenerative(string name, string method = "generateContent")
    {
        var id = StripPrefix(name ?? "");
        if (_models.TryGetValue(id, out var model)) return model;
        if (_aliases.TryGetValue(id, out var target)) return _models[target];
        if (IsGeminiGenerativeName(id))
        {
            return DefaultGenerative ?? throw new CastorException(ErrorStatus.FailedPrecondition,
                $"No generative model is installed, so 'models/{id}' has nothing to run on. Put a .gguf file in the models folder " +
                "(or start Castor with --models <folder or .gguf file>) and restart the server.");
        }
        throw NotFound(id, method);
    }

    /// <summary>Describes a model or alias for models.get; throws 404 for unknown names.</summary>
    public ModelInfo Describe(string name)
    {
        var id = StripPrefix(name ?? "");
        if (_models.TryGetValue(id, out var model)) return Info(model.Id, model, isAlias: false);
        if (_aliases.TryGetValue(id, out var target)) return Info(id, _models[target], isAlias: true);
        if (IsGeminiGenerativeName(id) && DefaultGenerative is { } fallback) return Info(id, fallback, isAlias: true);
        throw CastorException.NotFound($"Model 'models/{id}' is not found. Call ListModels to see the models this server has.");
    }

    /// <summary>Local models first, then aliases, in a stable order (page tokens are offsets into it).</summary>
    public IReadOnlyList<ModelInfo> List()
    {
        var list = Models.Select(m => Info(m.Id, m, isAlias: false)).ToList();
        list.AddRange(Aliases.Select(a => Info(a.Alias, a.Target, isAlias: true)));
        return list;
    }

    private static ModelInfo Info(string name, LlamaModel model, bool isAlias)
    {
        var description = $"Local GGUF model {Path.GetFileName(model.Spec.Path)} ({model.Architecture}, {FormatCount(model.ParameterCount)} parameters), " +
                          $"chat template: {model.Template.Name}.";
        if (isAlias) description = $"Alias of {model.Id}. " + description;
        return new ModelInfo(
            Name: name,
            BaseModelId: model.Id,
            Version: model.Metadata.GetValueOrDefault("general.version") ?? "001",
            DisplayName: isAlias ? $"{name} (→ {model.Id})" : model.DisplayName,
            Description: description,
            InputTokenLimit: model.ContextSize - 1,
            OutputTokenLimit: model.ContextSize - 1,
            SupportedGenerationMethods: ["generateContent", "countTokens"],
            Temperature: GenerationDefaults.Temperature,
            MaxTemperature: GenerationDefaults.MaxTemperature,
            TopP: GenerationDefaults.TopP,
            TopK: GenerationDefaults.TopK,
            Thinking: false);
    }

    private static bool IsGeminiGenerativeName(string id) =>
        id.StartsWith("gemini-", StringComparison.OrdinalIgnoreCase) && !id.Contains("embedding", StringComparison.OrdinalIgnoreCase);

    private static CastorException NotFound(string id, string method) =>
        CastorException.NotFound($"models/{id} is not found for API version v1beta, or is not supported for {method}. " +
                                 "Call ListModels to see the list of available models and their supported methods.");

    private static string FormatCount(ulong n) => n switch
    {
        >= 1_000_000_000 => $"{n / 1e9:0.#}B",
        >= 1_000_000 => $"{n / 1e6:0.#}M",
        >= 1_000 => $"{n / 1e3:0.#}K",
        _ => n.ToString(),
    };

    public void Dispose()
    {
        foreach (var model in Models) model.Dispose();
    }
}
