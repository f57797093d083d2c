using System.Diagnostics;
using Castor.Application.Backends;
using Castor.Application.Embeddings;
using Castor.Engine.Embedding;
using Castor.Engine.Models;
using Microsoft.Extensions.Logging;

namespace Castor.Application.Models;

/// <summary>
/// Loads models into a <see cref="ModelCatalogue"/>: at start-up everything configured or discovered (writing the
/// progress lines the console shows), and later single models while the server runs.
/// </summary>
public sealed class ModelLoader(EngineOptions engine, ILoggerFactory loggers, TextWriter? console = null)
{
    private readonly ILogger _logger = loggers.CreateLogger("Castor.Models");
    private readonly TextWriter _console = console ?? TextWriter.Null;

    /// <summary>
    /// Loads every configured and discovered model. A GGUF is a generative or an embedding model, as configured or as
    /// its metadata says; the same file may be configured as both (under two ids), and each kind gets its own context.
    /// One unreadable file does not keep the others down; a bad setting (alias target, default, pooling) stops start-up.
    /// </summary>
    public ModelCatalogue LoadAll(ModelCatalogueSettings settings)
    {
        var specs = new List<ModelSpec>();
        var embeddingSpecs = new List<(EmbeddingModelSpec Spec, ModelSettings? Settings)>();
        foreach (var (id, configured) in settings.Models)
        {
            if (string.IsNullOrWhiteSpace(configured.Path)) continue;
            var path = Path.GetFullPath(configured.Path);
            if (IsEmbeddingModel(configured, path))
                embeddingSpecs.Add((EmbeddingSpec(id.ToLowerInvariant(), path, configured), configured));
            else
                specs.Add(Spec(id.ToLowerInvariant(), path, configured));
        }
        foreach (var (id, path) in GgufDiscovery.Find(settings.Locations, warning => _console.WriteLine("  warning: " + warning)))
        {
            var configured = settings.Models.GetValueOrDefault(id);
            if (IsEmbeddingModel(configured, path))
            {
                if (embeddingSpecs.Any(e => e.Spec.Id == id || e.Spec.Path == path) || specs.Any(s => s.Id == id)) continue;
                embeddingSpecs.Add((EmbeddingSpec(id, path, configured), configured));
            }
            else
            {
                if (specs.Any(s => s.Id == id || s.Path == path) || embeddingSpecs.Any(e => e.Spec.Id == id)) continue;
                specs.Add(Spec(id, path, configured));
            }
        }

        var found = PairProjectors(settings.Locations, specs);

        var models = new List<IModelBackend>();
        foreach (var spec in specs)
        {
            try
            {
                models.Add(Load(spec, found.Contains(spec.Id)));
            }
            catch (Exception)
            {
                // Reported by Load; the other models still serve.
            }
        }

        var embeddings = new List<EmbeddingModelEntry>();
        if (settings.BuiltinEmbeddingModel)
        {
            var configured = settings.Models.GetValueOrDefault(MiniLmEmbedder.ModelId);
            _console.WriteLine($"Loading {MiniLmEmbedder.ModelId} (built in: all-MiniLM-L6-v2 on ONNX Runtime) …");
            LoadEmbedding(MiniLmEmbedder.ModelId, configured,
                () => MiniLmEmbedder.Load(engine, _logger, MiniLmEmbedder.ModelId, configured?.ContextSize, configured?.DisplayName), embeddings);
        }
        foreach (var (spec, configured) in embeddingSpecs)
        {
            if (embeddings.Any(e => e.Id == spec.Id) || models.Any(m => m.Description.Id == spec.Id))
            {
                _console.WriteLine($"  warning: a model with id '{spec.Id}' is already loaded; {spec.Path} is skipped.");
                continue;
            }
            _console.WriteLine($"Loading {spec.Id} ({FormatBytes(GgufDiscovery.FileSize(spec.Path))}) from {spec.Path} as an embedding model …");
            LoadEmbedding(spec.Id, configured, () => LlamaEmbedder.Load(spec, engine, _logger), embeddings);
        }

        var aliases = new Dictionary<string, string>(settings.Aliases, StringComparer.OrdinalIgnoreCase);
        foreach (var (id, configured) in settings.Models)
            foreach (var alias in configured.Aliases)
                aliases[alias] = id.ToLowerInvariant();
        var loaded = models.Select(m => m.Description.Id).Concat(embeddings.Select(e => e.Id)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, target) in aliases.ToList())
        {
            if (loaded.Contains(ModelCatalogue.StripPrefix(target))) continue;
            _console.WriteLine($"  warning: alias '{alias}' points to '{target}', which is not loaded; ignored.");
            aliases.Remove(alias);
        }
        try
        {
            return new ModelCatalogue(models, aliases, settings.DefaultModel, embeddings, settings.DefaultEmbeddingModel);
        }
        catch
        {
            foreach (var model in models) model.Dispose();
            foreach (var entry in embeddings) entry.Model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads one generative GGUF (for a catalogue's <see cref="ModelCatalogue.Load"/> while the server runs). With the
    /// model <paramref name="locations"/> it was found in, it is paired with a projector beside it as at start-up (a
    /// <c>castor pull</c> into a running server's folder leaves <c>models/{id}/</c> with the model and its mmproj).
    /// </summary>
    public IModelBackend LoadGenerative(string id, string path, ModelSettings? settings = null, IReadOnlyList<string>? locations = null)
    {
        var spec = Spec(id.ToLowerInvariant(), Path.GetFullPath(path), settings);
        var projectorFound = false;
        if (locations is not null && spec.Projector is null)
        {
            var folder = Path.GetDirectoryName(spec.Path)!;
            // Another model beside it would make the projector's owner ambiguous, as it is at start-up.
            var beside = GgufDiscovery.Find([folder]).Count(m => string.Equals(Path.GetDirectoryName(Path.GetFullPath(m.Path)), folder, StringComparison.Ordinal));
            if (beside == 1)
            {
                var specs = new List<ModelSpec> { spec };
                projectorFound = PairProjectors(locations, specs).Count == 1;
                spec = specs[0];
            }
        }
        return Load(spec, projectorFound);
    }

    /// <summary>Whether a GGUF found while the server runs is an embedding model (those are loaded at start-up only).</summary>
    public static bool IsEmbedding(string path, ModelSettings? settings = null) => IsEmbeddingModel(settings, path);

    /// <summary>
    /// Loads a generative model. A projector found beside the model (<paramref name="projectorFound"/>, not configured)
    /// that cannot be loaded — a truncated download, one made for another model — leaves the model serving text rather
    /// than not at all: the user did not ask for that file, and the warning names it and what to do.
    /// </summary>
    private LlamaBackend Load(ModelSpec spec, bool projectorFound = false)
    {
        if (projectorFound && spec.Projector is { } found)
        {
            try
            {
                return Load(spec);
            }
            catch (Exception ex)
            {
                LlamaBackend textOnly;
                try
                {
                    textOnly = Load(spec with { Projector = null });
                }
                catch (Exception)
                {
                    // The model itself does not load: its own error was reported, as it would be without the projector.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex).Throw();
                    throw;
                }
                _console.WriteLine($"  warning: {spec.Id} serves text only: the projector {found} beside it could not be loaded ({ex.Message}). " +
                                   $"Replace it with the mmproj made for this model, or name one with ModelSettings:{spec.Id}:Projector.");
                return textOnly;
            }
        }

        var size = GgufDiscovery.FileSize(spec.Path);
        _console.WriteLine(spec.Projector is { } projector
            ? $"Loading {spec.Id} ({FormatBytes(size)}) from {spec.Path} with projector {Path.GetFileName(projector)} …"
            : $"Loading {spec.Id} ({FormatBytes(size)}) from {spec.Path} …");
        var clock = Stopwatch.StartNew();
        try
        {
            var backend = new LlamaBackend(LlamaModel.Load(spec, engine, _logger));
            _console.WriteLine($"  loaded in {clock.Elapsed.TotalSeconds:0.0} s");
            return backend;
        }
        catch (Exception ex)
        {
            _console.WriteLine($"  could not load {spec.Id}: {ex.Message}");
            _logger.LogDebug(ex, "Could not load model {Model} from {Path}", spec.Id, spec.Path);
            throw;
        }
    }

    private void LoadEmbedding(string id, ModelSettings? settings, Func<EmbeddingModel> load, List<EmbeddingModelEntry> into)
    {
        var clock = Stopwatch.StartNew();
        EmbeddingModel model;
        try
        {
            model = load();
        }
        catch (Exception ex)
        {
            _console.WriteLine($"  could not load {id}: {ex.Message}");
            _logger.LogDebug(ex, "Could not load embedding model {Model}", id);
            return;
        }
        try
        {
            // A mistyped prompt style or task type is a configuration error, reported at start-up like an unknown default model.
            into.Add(new EmbeddingModelEntry(model, TaskPrompts.For(model.Info, settings?.PromptStyle, settings?.TaskPrompts)));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        _console.WriteLine($"  loaded in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static ModelSpec Spec(string id, string path, ModelSettings? settings) =>
        new(id, path, settings?.ChatTemplate, settings?.ContextSize, settings?.DisplayName,
            settings?.Thinking is { } t ? new ThinkingMarkers(t.Start, t.End, t.StartsInThought) : null, settings?.FlashAttention,
            string.IsNullOrWhiteSpace(settings?.Projector) ? null : Path.GetFullPath(settings.Projector));

    /// <summary>
    /// A folder holding exactly one generative model and one projector (a Hugging Face GGUF repository's layout, and the
    /// <c>models/{id}/</c> folders <c>castor pull</c> leaves) pairs them, unless the model has a configured projector:
    /// a models folder itself, or one of its subfolders.
    /// </summary>
    private static HashSet<string> PairProjectors(IEnumerable<string> modelLocations, List<ModelSpec> specs)
    {
        var paired = new HashSet<string>(StringComparer.Ordinal);
        static string Full(string path) => Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        var locations = modelLocations.Where(Directory.Exists).Select(Full).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in specs.Select(s => Path.GetDirectoryName(Full(s.Path))!).Distinct(StringComparer.Ordinal).ToList())
        {
            if (!locations.Contains(folder) && !(Path.GetDirectoryName(folder) is { } parent && locations.Contains(parent))) continue;
            if (GgufDiscovery.ProjectorIn(folder) is not { } projector) continue;
            var inFolder = specs.Select((s, i) => (s, i))
                .Where(x => string.Equals(Path.GetDirectoryName(Full(x.s.Path)), folder, StringComparison.Ordinal))
                .ToList();
            if (inFolder is [var (spec, index)] && spec.Projector is null)
            {
                specs[index] = spec with { Projector = projector };
                paired.Add(spec.Id);
            }
        }
        return paired;
    }

    /// <summary>Configuration decides; otherwise the GGUF's metadata (a pooling type, or an encoder architecture).</summary>
    private static bool IsEmbeddingModel(ModelSettings? settings, string path)
    {
        if (settings?.Embedding is { } configured) return configured;
        if (settings?.Pooling is not null || settings?.PromptStyle is not null || settings?.TaskPrompts.Count > 0) return true;
        try
        {
            return File.Exists(path) && LlamaEmbedder.IsEmbeddingModel(path);
        }
        catch (Exception)
        {
            // An unreadable file is reported when it fails to load as a generative model.
            return false;
        }
    }

    private static EmbeddingModelSpec EmbeddingSpec(string id, string path, ModelSettings? settings)
    {
        EmbeddingPooling? pooling = settings?.Pooling?.Trim().ToLowerInvariant() switch
        {
            null or "" => null,
            "mean" => EmbeddingPooling.Mean,
            "cls" => EmbeddingPooling.Cls,
            "last" => EmbeddingPooling.Last,
            _ => throw new InvalidOperationException($"ModelSettings:{id}:Pooling is '{settings.Pooling}'; use mean, cls or last."),
        };
        return new EmbeddingModelSpec(id, path, pooling, settings?.ContextSize, settings?.DisplayName);
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
