using Castor.Application.Backends;
using Castor.Application.Embeddings;
using Castor.Application.Errors;

namespace Castor.Application.Models;

/// <summary>
/// Knows every model this server can answer with and resolves the names clients send: local model ids,
/// configured aliases, and Gemini model names (which alias the default generative model, or for embedding names the
/// default embedding model, so unchanged client code works). Accepts the <c>models/</c> prefix everywhere.
/// Generative and embedding models never stand in for each other: generateContent on an embedding model is a 404,
/// as the API answers, and embedContent on a generative model a 400.
/// Generative models can be loaded and unloaded while the server runs: a request holds a <see cref="ModelLease"/> on the
/// model it resolved, and unloading waits until the last lease ends before the model's memory is freed.
/// </summary>
public sealed class ModelCatalogue : IDisposable
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

    /// <summary>Guards the tables below and every lease count; resolution is a few dictionary lookups, so one lock is cheap.</summary>
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LoadedModel> _models = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Generative models in load order (models.list and the default follow it).</summary>
    private readonly List<LoadedModel> _order = [];
    private readonly Dictionary<string, EmbeddingModelEntry> _embeddings;
    private readonly Dictionary<string, string> _aliases;
    private readonly string? _configuredDefault;
    private LoadedModel? _default;

    public ModelCatalogue(IReadOnlyList<IModelBackend> models, IReadOnlyDictionary<string, string>? aliases = null, string? defaultModel = null,
        IReadOnlyList<EmbeddingModelEntry>? embeddingModels = null, string? defaultEmbeddingModel = null)
    {
        EmbeddingModels = embeddingModels ?? [];
        foreach (var model in models)
        {
            var loaded = new LoadedModel(model);
            if (!_models.TryAdd(model.Description.Id, loaded))
                throw new InvalidOperationException($"Two models have the id '{model.Description.Id}'; give one of them another id.");
            _order.Add(loaded);
        }
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
            _default = chosen;
            _configuredDefault = chosen.Backend.Description.Id;
        }
        else
        {
            _default = _order.FirstOrDefault();
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
            DefaultEmbedding = EmbeddingModels.Count > 0 ? EmbeddingModels[0] : null;
        }
    }

    /// <summary>The generative models loaded now, in load order.</summary>
    public IReadOnlyList<IModelBackend> Models
    {
        get { lock (_gate) return _order.Select(m => m.Backend).ToList(); }
    }

    public IReadOnlyList<EmbeddingModelEntry> EmbeddingModels { get; }

    /// <summary>The model Gemini names resolve to; null when no generative model is installed.</summary>
    public IModelBackend? DefaultGenerative
    {
        get { lock (_gate) return _default?.Backend; }
    }

    /// <summary>The model Gemini embedding names resolve to; null only when the built-in one is turned off and no other is loaded.</summary>
    public EmbeddingModelEntry? DefaultEmbedding { get; }

    /// <summary>Configured aliases of generative models and the listed Gemini names, with the model each resolves to.</summary>
    public IReadOnlyList<(string Alias, IModelBackend Target)> Aliases
    {
        get
        {
            lock (_gate)
            {
                var list = _aliases.Where(a => _models.ContainsKey(a.Value)).Select(a => (a.Key, _models[a.Value].Backend))
                    .OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
                if (_default is { } fallback)
                    foreach (var name in WellKnownGeminiNames)
                        if (!_aliases.ContainsKey(name) && !_models.ContainsKey(name) && !_embeddings.ContainsKey(name))
                            list.Add((name, fallback.Backend));
                return list;
            }
        }
    }

    /// <summary>Configured aliases of embedding models and the listed Gemini embedding names, with the model each resolves to.</summary>
    public IReadOnlyList<(string Alias, EmbeddingModelEntry Target)> EmbeddingAliases
    {
        get
        {
            lock (_gate)
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
    }

    public static string StripPrefix(string name) =>
        name.StartsWith("models/", StringComparison.Ordinal) ? name["models/".Length..] : name;

    /// <summary>
    /// Resolves a client-supplied name to a generative model and holds it loaded until the lease is disposed,
    /// or throws the API's error for the name.
    /// </summary>
    public ModelLease Acquire(string name, string method = "generateContent")
    {
        lock (_gate)
        {
            var model = Resolve(name, method);
            model.Leases++;
            return new ModelLease(this, model);
        }
    }

    /// <summary>Resolves a name to a generative model without holding it; for facts only (models.get), never to run it.</summary>
    public IModelBackend ResolveGenerative(string name, string method = "generateContent")
    {
        lock (_gate) return Resolve(name, method).Backend;
    }

    private LoadedModel Resolve(string name, string method)
    {
        var id = StripPrefix(name ?? "");
        if (_models.TryGetValue(id, out var model)) return model;
        if (_aliases.TryGetValue(id, out var target))
            return _models.TryGetValue(target, out var aliased) ? aliased : throw NotFound(id, method);
        if (IsGeminiGenerativeName(id) && !_embeddings.ContainsKey(id))
        {
            return _default ?? throw new CastorException(ErrorStatus.FailedPrecondition,
                $"No generative model is installed, so 'models/{id}' has nothing to run on. Run `castor pull gemma-3-1b-it` (a running " +
                "server picks it up from its models folder), or put a .gguf file in the models folder, or start Castor with --models <folder or .gguf file>.");
        }
        throw NotFound(id, method);
    }

    /// <summary>
    /// Adds a generative model while the server runs (start-up uses the constructor). It is listed and resolvable at
    /// once; it becomes the default when there was none, or when it is the configured default coming back.
    /// </summary>
    public void Load(IModelBackend backend)
    {
        lock (_gate)
        {
            var id = backend.Description.Id;
            if (_models.ContainsKey(id) || _embeddings.ContainsKey(id))
                throw new InvalidOperationException($"A model with the id '{id}' is already loaded; unload it first or give the new one another id.");
            var loaded = new LoadedModel(backend);
            _models.Add(id, loaded);
            _order.Add(loaded);
            if (_default is null || string.Equals(id, _configuredDefault, StringComparison.OrdinalIgnoreCase)) _default = loaded;
        }
    }

    /// <summary>
    /// Unloads a generative model: from now on its name resolves as for any unknown model (aliases of it included), and
    /// once every request that already resolved it has finished, its memory is freed. Completes after that; cancelling
    /// stops the wait, not the unload (the last lease still frees it).
    /// </summary>
    public Task UnloadAsync(string id, CancellationToken cancellationToken = default)
    {
        LoadedModel model;
        lock (_gate)
        {
            // Embedding models are not leased by their requests yet, so freeing one under a running batch is not safe.
            if (_embeddings.ContainsKey(StripPrefix(id ?? "")))
                throw new CastorException(ErrorStatus.FailedPrecondition,
                    $"'{StripPrefix(id ?? "")}' is an embedding model; only generative models can be unloaded while the server runs.");
            if (!_models.Remove(StripPrefix(id ?? ""), out model!))
                throw CastorException.NotFound($"Model 'models/{StripPrefix(id ?? "")}' is not loaded, so it cannot be unloaded.");
            _order.Remove(model);
            if (_default == model)
                _default = _order.FirstOrDefault(m => string.Equals(m.Backend.Description.Id, _configuredDefault, StringComparison.OrdinalIgnoreCase)) ?? _order.FirstOrDefault();
            model.Unloading = true;
            if (model.Leases == 0) model.FreeSoon();
        }
        return model.Freed.Task.WaitAsync(cancellationToken);
    }

    /// <summary>How many requests hold a model now (0 for a model that is not loaded).</summary>
    public int LeaseCount(string id)
    {
        lock (_gate) return _models.TryGetValue(StripPrefix(id), out var model) ? model.Leases : 0;
    }

    internal void Release(LoadedModel model)
    {
        lock (_gate)
        {
            model.Leases--;
            if (model.Leases == 0 && model.Unloading) model.FreeSoon();
        }
    }

    /// <summary>Resolves a client-supplied name to an embedding model, or throws the API's error for it.</summary>
    public EmbeddingModelEntry ResolveEmbedding(string name, string method = EmbeddingService.EmbedContentMethod)
    {
        var id = StripPrefix(name ?? "");
        if (_embeddings.TryGetValue(id, out var entry)) return entry;
        if (_aliases.TryGetValue(id, out var target))
            return _embeddings.TryGetValue(target, out var aliased) ? aliased : throw NotAnEmbeddingModel(id, method);
        bool generative;
        lock (_gate) generative = _models.ContainsKey(id);
        if (generative) throw NotAnEmbeddingModel(id, method);
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
        lock (_gate)
        {
            if (_models.TryGetValue(id, out var model)) return Info(model.Backend.Description.Id, model.Backend.Description, isAlias: false);
            if (_embeddings.TryGetValue(id, out var entry)) return Info(entry.Id, entry, isAlias: false);
            if (_aliases.TryGetValue(id, out var target))
            {
                if (_models.TryGetValue(target, out var aliased)) return Info(id, aliased.Backend.Description, isAlias: true);
                if (_embeddings.TryGetValue(target, out var embedding)) return Info(id, embedding, isAlias: true);
            }
            else
            {
                if (IsGeminiGenerativeName(id) && _default is { } fallback) return Info(id, fallback.Backend.Description, isAlias: true);
                if (IsGeminiEmbeddingName(id) && DefaultEmbedding is { } embedding) return Info(id, embedding, isAlias: true);
            }
        }
        throw CastorException.NotFound($"Model 'models/{id}' is not found. Call ListModels to see the models this server has.");
    }

    /// <summary>Local generative models, local embedding models, then aliases of each, in a stable order (page tokens are offsets into it).</summary>
    public IReadOnlyList<ModelInfo> List()
    {
        var list = Models.Select(m => Info(m.Description.Id, m.Description, isAlias: false)).ToList();
        list.AddRange(EmbeddingModels.Select(e => Info(e.Id, e, isAlias: false)));
        list.AddRange(Aliases.Select(a => Info(a.Alias, a.Target.Description, isAlias: true)));
        list.AddRange(EmbeddingAliases.Select(a => Info(a.Alias, a.Target, isAlias: true)));
        return list;
    }

    private static ModelInfo Info(string name, ModelDescription model, bool isAlias)
    {
        var description = $"Local GGUF model {model.FileName} ({model.Architecture}, {FormatCount(model.ParameterCount)} parameters), " +
                          $"chat template: {model.ChatTemplateName}.";
        if (model.Projector is { } projector) description += " " + projector.Describe();
        if (isAlias) description = $"Alias of {model.Id}. " + description;
        return new ModelInfo(
            Name: name,
            BaseModelId: model.Id,
            Version: model.Version ?? "001",
            DisplayName: isAlias ? $"{name} (→ {model.Id})" : model.DisplayName,
            Description: description,
            InputTokenLimit: model.ContextSize - 1,
            OutputTokenLimit: model.ContextSize - 1,
            SupportedGenerationMethods: ["generateContent", "countTokens", "createCachedContent"],
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
        List<LoadedModel> models;
        lock (_gate)
        {
            models = [.. _order];
            _order.Clear();
            _models.Clear();
            _default = null;
        }
        // Outside the lock: a backend's shutdown completes its streams, and their leases come back here to release.
        foreach (var model in models) model.Free();
        foreach (var entry in EmbeddingModels) entry.Model.Dispose();
    }

    /// <summary>A generative model with the number of requests holding it (guarded by the catalogue's lock).</summary>
    internal sealed class LoadedModel(IModelBackend backend)
    {
        public IModelBackend Backend { get; } = backend;
        public int Leases { get; set; }
        public bool Unloading { get; set; }
        public TaskCompletionSource Freed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int _freed;

        /// <summary>
        /// Frees the model on the thread pool: the last lease may be released on the backend's own thread (its event
        /// stream completing), and a backend cannot stop itself from there; nor should it under the catalogue's lock.
        /// </summary>
        public void FreeSoon() => _ = Task.Run(Free);

        public void Free()
        {
            if (Interlocked.Exchange(ref _freed, 1) != 0) return;
            try
            {
                Backend.Dispose();
                Freed.TrySetResult();
            }
            catch (Exception ex)
            {
                Freed.TrySetException(ex);
            }
        }
    }
}
