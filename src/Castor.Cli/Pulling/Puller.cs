using Castor.Hub;
using Castor.Server;
using Spectre.Console;

namespace Castor.Cli.Pulling;

/// <summary>Runs one pull for the command line: the hub from configuration, live bars on a terminal or plain lines otherwise, and the final line.</summary>
internal static class Puller
{
    /// <summary>Where pulled models go: the folder named, else the first configured location that is a folder, else ./models.</summary>
    public static string ModelsFolder(CastorOptions options, string? named) =>
        Path.GetFullPath(named ?? options.Models.FirstOrDefault(Directory.Exists) ?? CastorOptions.DefaultModelsFolder);

    /// <summary>Pulls and prints the final line (path and id) to <paramref name="output"/>; throws <see cref="PullException"/>.</summary>
    public static async Task<PulledModel> PullAsync(CastorOptions options, ModelSource source, string modelsFolder, TextWriter output, CancellationToken cancellationToken)
    {
        using var hub = new HubClient(options.Hub.ResolveUrl(), options.Hub.ResolveToken());
        var puller = new ModelPuller(hub, modelsFolder);
        PulledModel pulled;
        // The live bars only when a person watches: redirected output (a log, a pipe, a test) gets lines it can keep.
        if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
            pulled = await LivePullProgress.RunAsync(AnsiConsole.Console, progress => puller.PullAsync(source, progress, cancellationToken));
        else
            pulled = await puller.PullAsync(source, new PlainPullProgress(output), cancellationToken);

        var projector = pulled.ProjectorPath is null ? "" : $" with projector {Path.GetFileName(pulled.ProjectorPath)}";
        output.WriteLine($"Pulled {pulled.Source} into {pulled.ModelPath}{projector}: model id '{pulled.Id}' (models/{pulled.Id}).");
        return pulled;
    }
}
