using Castor.Application.Models;
using Castor.Engine.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Castor.Server;

/// <summary>
/// Loads a generative model that appears in the model locations while the server runs (<c>castor pull</c> against a
/// running server's folder), without a restart. Only files that appear (or are replaced) after start-up count: a model
/// unloaded on purpose, or one that failed to load, is not loaded again behind the user's back. A pull renames each file
/// into place only once verified, projector first and the model last, so a file that appears is complete.
/// </summary>
internal sealed class ModelFolderWatcher(
    CastorOptions options, ModelCatalogue catalogue, EngineOptions engine, ILoggerFactory loggers, TextWriter console) : BackgroundService
{
    /// <summary>How often the locations are listed: a directory listing per location, cheap next to any model load.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly ILogger _logger = loggers.CreateLogger("Castor.Models");
    private readonly HashSet<(string Path, DateTime Written)> _seen = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var locations = options.Models.Count > 0 ? options.Models : [CastorOptions.DefaultModelsFolder];
        foreach (var found in Scan(locations)) _seen.Add(found.Key);
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var (key, id) in Scan(locations))
            {
                if (!_seen.Add(key)) continue;
                if (catalogue.Models.Any(m => string.Equals(m.Description.Id, id, StringComparison.OrdinalIgnoreCase)) ||
                    catalogue.EmbeddingModels.Any(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase)))
                    continue;
                var settings = options.ModelSettings.GetValueOrDefault(id);
                try
                {
                    if (ModelLoader.IsEmbedding(key.Path, settings))
                    {
                        console.WriteLine($"Found embedding model {id} ({key.Path}); embedding models load at start-up, so restart castor to serve it.");
                        continue;
                    }
                    catalogue.Load(new ModelLoader(engine, loggers, console).LoadGenerative(id, key.Path, settings, locations));
                    console.WriteLine($"Serving {id} (models/{id}), found in {Path.GetDirectoryName(key.Path)} while running.");
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // ModelLoader wrote the reason; the server keeps serving the others.
                    _logger.LogDebug(ex, "Could not load {Model} found while running", id);
                }
            }
        }
    }

    private static IEnumerable<KeyValuePair<(string Path, DateTime Written), string>> Scan(IReadOnlyList<string> locations) =>
        GgufDiscovery.Find(locations.Where(l => File.Exists(l) || Directory.Exists(l)).ToList())
            .Select(m => KeyValuePair.Create((m.Path, File.GetLastWriteTimeUtc(m.Path)), m.Id));
}
