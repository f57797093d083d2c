using Castor.Application.Embeddings;
using Castor.Application.Errors;
using Castor.Engine.Models;

namespace Castor.Application.Models;

/// <summary>
/// Knows every model this server can answer with and resolves the names clients send: local model ids,
/// configured aliases, and Gemini model names (which alias the default generative model, or for embedding names the
/// default embedding model, so unchanged client code works). Accepts the <c>models/</c> prefix everywhere.
/// Generative and embedding models never stand in for each other: generateContent on an embedding model is a 404,
/// as the API answers, and embedContent on a generative model a 400.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    /// <summary>Gemini names listed explicitly so clients that look them up in models.list find them.</summary>
    public static readonly IReadOnlyList<string> WellKnownGeminiNames =
    [
        "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash", "gemini-2.0-flash-lite",
        "gemini-flash-latest", "gemini-flash-lite-latest", "gemini-pro-latest",
    ];

    /// <summary>Gemini embedding names listed explicitly; like any other <c>*embedding*</c> Gemini name they alias the default embedding model.</summary>
    public static readonly IReadOnlyList<string> WellKnownEmbeddingNames = ["gemini-embedding-001", "text-embedding-004", "embedding-001"];

    private static readonly IReadOnlyList<string> EmbeddingMethods = [EmbeddingService.EmbedContentMethod];

    private readonly Dictionary<string, LlamaModel> _models;
    private readonly Dictionary<string, EmbeddingModelEntry> _embeddings;
    private readonly Dictionary<string, string> _aliases;

    public ModelRegistry(IReadOnlyList<LlamaModel> models, IReadOnlyDictionary<string, string>? aliases = null, string? defaultModel = null,
        IReadOnlyList<EmbeddingModelEntry>? embeddingModels = null, string? defaultEmbeddingModel = null)
    {
        Models = models;
        EmbeddingModels = embeddingModels ?? [];
        _models = models.ToDictionary(m => m.Id, StringComparer.OrdinalIgnoreCase);
        _embeddings = new Dictionary<string, EmbeddingModelEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in EmbeddingModels)
        {
            if (_models.ContainsKey(entry.Id) || !_embeddings.TryAdd(entry.Id, entry))
                throw new InvalidOperationException($"Two models have the id '{entry.Id}'; give one of them another id.");
        }

        _aliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, target) in aliases ?? new Dictionary<string, string>())
        {
            var targetId = StripPrefix(target);
            if (!_models.ContainsKey(targetId) && !_embeddings.ContainsKey(targetId))
                throw new InvalidOperationException($"Alias '{alias}' points to '{target}', which is not a loaded model. Loaded: {string.Join(", ", LoadedIds())}.");
            _aliases[StripPrefix(alias)] = targetId;
        }

        if (!string.IsNullOrWhiteSpace(defaultModel))
        {
            var id = StripPrefix(defaultModel);
            if (!_models.TryGetValue(id, out var chosen) && !(_aliases.TryGetValue(id, out var aliased) && _models.TryGetValue(aliased, out chosen)))
                throw new InvalidOperationException($"The default model '{defaultModel}' is not a loaded generative model. Loaded: {string.Join(", ", _models.Keys)}.");
            DefaultGenerative = chosen;
        }
        else
        {
            DefaultGenerative = models.FirstOrDefault();
        }

        if (!string.IsNullOrWhiteSpace(defaultEmbeddingModel))
        {
            var id = StripPrefix(defaultEmbeddingModel);
            if (!_embeddings.TryGetValue(id, out var chosen) && !(_aliases.TryGetValue(id, out var aliased) && _embeddings.TryGetValue(aliased, out chosen)))
                throw new InvalidOperationException($"The default embedding model '{defaultEmbeddingModel}' is not a loaded embedding model. Loaded: {string.Join(", ", _embeddings.Keys)}.");
            DefaultEmbedding = chosen;
        }
        else
        {
            DefaultEmbedding = EmbeddingModels.FirstOrDefault();
        }
    }

    public IReadOnlyList<LlamaModel> Models { get; }

    public IReadOnlyList<EmbeddingModelEntry> EmbeddingModels { get; }

    /// <summary>The model Gemini names resolve to; null when no generative model is installed.</summary>
    public LlamaModel? DefaultGenerative { get; }

    /// <summary>The model Gemini embedding names resolve to; null only when the built-in one is turned off and no other is loaded.</summary>
    public EmbeddingModelEntry? DefaultEmbedding { get; }

    /// <summary>Configured aliases of generative models and the listed Gemini names, with the model each resolves to.</summary>
    public IReadOnlyList<(string Alias, LlamaModel Target)> Aliases
    {
        get
        {
            var list = _aliases.Where(a => _models.ContainsKey(a.Value)).Select(a => (a.Key, _models[a.Value]))
                .OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
            if (DefaultGenerative is { } fallback)
                foreach (var name in WellKnownGeminiNames)
                    if (!_aliases.ContainsKey(name) && !_models.ContainsKey(name) && !_embeddings.ContainsKey(name))
                        list.Add((name, fallback));
            return list;
        }
    }

    /// <summary>Configured aliases of embedding models and the listed Gemini embedding names, with the model each resolves to.</summary>
    public IReadOnlyList<(string Alias, EmbeddingModelEntry Target)> EmbeddingAliases
    {
        get
        {
            var list = _aliases.Where(a => _embeddings.ContainsKey(a.Value)).Select(a => (a.Key, _embeddings[a.Value]))
                .OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
            if (DefaultEmbedding is { } fallback)
                foreach (var name in WellKnownEmbeddingNames)
                    if (!_aliases.ContainsKey(name) && !_models.ContainsKey(name) && !_embeddings.ContainsKey(name))
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
        if (_aliases.TryGetValue(id, out var target))
            return _models.TryGetValue(target, out var aliased) ? aliased : throw NotFound(id, method);
        if (IsGeminiGenerativeName(id) && !_embeddings.ContainsKey(id))
        {
            return DefaultGenerative ?? throw new CastorException(ErrorStatus.FailedPrecondition,
                $"No generative model is installed, so 'models/{id}' has nothing to run on. Put a .gguf file in the models folder " +
                "(or start Castor with --models <folder or .gguf file>) and restart the server.");
        }
        throw NotFound(id, method);
    }

    /// <summary>Resolves a client-supplied name to an embedding model, or throws the API's error for it.</summary>
    public EmbeddingModelEntry ResolveEmbedding(string name, string method = EmbeddingService.EmbedContentMethod)
    {
        var id = StripPrefix(name ?? "");
        if (_embeddings.TryGetValue(id, out var entry)) return entry;
        if (_aliases.TryGetValue(id, out var target))
            return _embeddings.TryGetValue(target, out var aliased) ? aliased : throw NotAnEmbeddingModel(id, method);
        if (_models.ContainsKey(id)) throw NotAnEmbeddingModel(id, method);
        if (IsGeminiEmbeddingName(id))
        {
            return DefaultEmbedding ?? throw new CastorException(ErrorStatus.FailedPrecondition,
                $"No embedding model is available, so 'models/{id}' has nothing to run on. Enable the built-in one (BuiltinEmbeddingModel) " +
                "or load a GGUF embedding model, and restart the server.");
        }
        if (IsGeminiGenerativeName(id)) throw NotAnEmbeddingModel(id, method);
        throw NotFound(id, method);
    }

    /// <summary>Describes a model or alias for models.get; throws 404 for unknown names.</summary>
    public ModelInfo Describe(string name)
    {
        var id = StripPrefix(name ?? "");
        if (_models.TryGetValue(id, out var model)) return Info(model.Id, model, isAlias: false);
        if (_embeddings.TryGetValue(id, out var entry)) return Info(entry.Id, entry, isAlias: false);
        if (_aliases.TryGetValue(id, out var target))
            return _models.TryGetValue(target, out var aliased) ? Info(id, aliased, isAlias: true) : Info(id, _embeddings[target], isAlias: true);
        if (IsGeminiGenerativeName(id) && DefaultGenerative is { } fallback) return Info(id, fallback, isAlias: true);
        if (IsGeminiEmbeddingName(id) && DefaultEmbedding is { } embedding) return Info(id, embedding, isAlias: true);
        throw CastorException.NotFound($"Model 'models/{id}' is not found. Call ListModels to see the models this server has.");
    }

    /// <summary>Local generative models, local embedding models, then aliases of each, in a stable order (page tokens are offsets into it).</summary>
    public IReadOnlyList<ModelInfo> List()
    {
        var list = Models.Select(m => Info(m.Id, m, isAlias: false)).ToList();
        list.AddRange(EmbeddingModels.Select(e => Info(e.Id, e, isAlias: false)));
        list.AddRange(Aliases.Select(a => Info(a.Alias, a.Target, isAlias: true)));
        list.AddRange(EmbeddingAliases.Select(a => Info(a.Alias, a.Target, isAlias: true)));
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
            Thinking: model.Thinking is not null);
    }

    private static ModelInfo Info(string name, EmbeddingModelEntry entry, bool isAlias)
    {
        var info = entry.Info;
        var prompts = entry.Prompts.Style == TaskPrompts.NoneStyle
            ? " Task types and titles are accepted and do not change its vectors."
            : $" Task prompts: {entry.Prompts.Style}.";
        var description = info.Description + prompts;
        if (isAlias) description = $"Alias of {info.Id}. " + description;
        return new ModelInfo(
            Name: name,
            BaseModelId: info.Id,
            Version: "001",
            DisplayName: isAlias ? $"{name} (→ {info.Id})" : info.DisplayName,
            Description: description,
            InputTokenLimit: info.MaxTokens,
            // The API reports 1 for embedding models: their output is one vector.
            OutputTokenLimit: 1,
            SupportedGenerationMethods: EmbeddingMethods,
            Temperature: null,
            MaxTemperature: null,
            TopP: null,
            TopK: null,
            Thinking: null);
    }

    private IEnumerable<string> LoadedIds() => _models.Keys.Concat(_embeddings.Keys);

    private static bool IsGeminiGenerativeName(string id) =>
        id.StartsWith("gemini-", StringComparison.OrdinalIgnoreCase) && !id.Contains("embedding", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>gemini-embedding-001</c>, <c>text-embedding-004</c>, <c>embedding-001</c>, <c>embedding-gecko-001</c>, …</summary>
    private static bool IsGeminiEmbeddingName(string id) =>
        id.Contains("embedding", StringComparison.OrdinalIgnoreCase) &&
        (id.StartsWith("gemini-", StringComparison.OrdinalIgnoreCase) || id.StartsWith("text-", StringComparison.OrdinalIgnoreCase) ||
         id.StartsWith("embedding-", StringComparison.OrdinalIgnoreCase));

    private static CastorException NotFound(string id, string method) =>
        CastorException.NotFound($"models/{id} is not found for API version v1beta, or is not supported for {method}. " +
                                 "Call ListModels to see the list of available models and their supported methods.");

    private CastorException NotAnEmbeddingModel(string id, string method)
    {
        var suggestion = DefaultEmbedding is { } e ? $" Use an embedding model, such as models/gemini-embedding-001 (served by {e.Id})." : "";
        return CastorException.InvalidArgument(
            $"models/{id} does not support {method}: it is a generative model.{suggestion} " +
            "ListModels shows each model's supportedGenerationMethods.");
    }

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
        foreach (var entry in EmbeddingModels) entry.Model.Dispose();
    }
}
