using Castor.Cli.Pulling;
using Castor.Engine.Models;
using Castor.Hub;
using Castor.Server;

namespace Castor.Cli;

/// <summary>
/// The first <c>castor serve</c> on a fresh machine: nothing configured and nothing in ./models, so it pulls the default
/// model (<c>Hub:DefaultModel</c>) before starting, with the same progress as <c>castor pull</c>. Without a network it
/// says so in one line and the server starts with what it has.
/// </summary>
internal static class FirstRunPull
{
    /// <summary>Whether this start is a first run that should pull: auto-pull on, no model locations configured, no model in the folder.</summary>
    public static bool ShouldPull(CastorOptions options, bool noPull, string modelsFolder) =>
        !noPull && options.AutoPull && options.Models.Count == 0
        && !options.ModelSettings.Values.Any(s => !string.IsNullOrWhiteSpace(s.Path))
        && (!Directory.Exists(modelsFolder) || GgufDiscovery.Find([modelsFolder]).Count == 0);

    /// <summary>Pulls the default model when <see cref="ShouldPull"/>; returns whether a model was pulled. Never throws for a failed pull.</summary>
    public static async Task<bool> RunAsync(CastorOptions options, bool noPull, string modelsFolder, TextWriter output, CancellationToken cancellationToken)
    {
        if (!ShouldPull(options, noPull, modelsFolder)) return false;
        var name = options.Hub.DefaultModel;
        output.WriteLine($"No models yet in {Path.GetFullPath(modelsFolder)}: pulling {name} (turn this off with --no-pull or AutoPull: false).");
        try
        {
            await Puller.PullAsync(options, ModelSource.Parse(name), Path.GetFullPath(modelsFolder), output, cancellationToken);
            return true;
        }
        catch (PullException ex) when (ex.Failure == PullFailure.Unreachable)
        {
            output.WriteLine($"castor: no network to reach {SafeUrl(options)}, so {name} was not pulled; serving what is here. Run `castor pull {name}` once online.");
        }
        catch (Exception ex) when (ex is PullException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"castor: could not pull {name}: {ex.Message} Serving what is here; run `castor pull {name}` later.");
        }
        return false;
    }

    private static string SafeUrl(CastorOptions options)
    {
        try
        {
            return options.Hub.ResolveUrl().ToString();
        }
        catch (ArgumentException)
        {
            return "the hub";
        }
    }
}
