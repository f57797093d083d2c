using System.CommandLine;
using Castor.Hub;
using Castor.Server;

namespace Castor.Cli;

/// <summary><c>castor models list|show|rm</c>: what is installed in the models folders, read from the files themselves.</summary>
internal static class ModelsCommand
{
    public static Command Create(Option<string?> config)
    {
        var models = new Option<string?>("--models", "-m") { Description = "A models folder (default: the configured model locations, else ./models)." };

        var list = new Command("list", "List installed models: id, quantization, context, size, projector, aliases, file.") { models, config };
        list.SetAction(parse => Run(parse, config, models, (options, installed) =>
        {
            if (installed.Count == 0)
            {
                Console.Error.WriteLine($"No models in {string.Join(", ", Locations(options, parse.GetValue(models)))}. Get one with: castor pull {KnownModels.FirstRunModel}");
                return 0;
            }
            Console.WriteLine($"{"ID",-28} {"ARCH",-12} {"QUANT",-9} {"CONTEXT",8} {"SIZE",10}  {"PROJECTOR",-24} {"ALIASES",-20} FILE");
            foreach (var model in installed)
            {
                IReadOnlyList<KeyValuePair<string, string>> metadata;
                try
                {
                    metadata = model.Metadata();
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or EndOfStreamException)
                {
                    Console.WriteLine($"{model.Id,-28} (unreadable: {ex.Message}) {model.Path}");
                    continue;
                }
                var aliases = string.Join(",", model.Aliases(options));
                Console.WriteLine($"{model.Id,-28} {InstalledModel.Value(metadata, "general.architecture") ?? "?",-12} {model.Quantization(metadata) ?? "?",-9} " +
                                  $"{InstalledModel.ContextLength(metadata) ?? "?",8} {ModelPuller.FormatBytes(model.Bytes),10}  " +
                                  $"{(model.Projector is null ? "-" : Path.GetFileName(model.Projector)),-24} {(aliases.Length == 0 ? "-" : aliases),-20} {model.Path}");
            }
            return 0;
        }));

        var id = new Argument<string>("id") { Description = "The model's id, as castor models list shows it." };
        var show = new Command("show", "Show a model's files, origin and GGUF metadata.") { id, models, config };
        show.SetAction(parse => Run(parse, config, models, (options, installed) =>
        {
            if (Find(installed, parse.GetValue(id)!) is not { } model) return 1;
            var metadata = model.Metadata();
            Console.WriteLine($"id            {model.Id}");
            Console.WriteLine($"file          {model.Path}");
            foreach (var file in model.Files.Where(f => f != model.Path))
                Console.WriteLine($"              {file}");
            Console.WriteLine($"size          {ModelPuller.FormatBytes(model.Bytes)}");
            Console.WriteLine($"quantization  {model.Quantization(metadata) ?? "unknown"}");
            Console.WriteLine($"context       {InstalledModel.ContextLength(metadata) ?? "unknown"} tokens (training)");
            Console.WriteLine($"projector     {model.Projector ?? "none"}");
            Console.WriteLine($"aliases       {string.Join(", ", model.Aliases(options).DefaultIfEmpty("none"))}");
            if (model.Manifest is { } manifest)
                Console.WriteLine($"pulled from   {manifest.Source} (revision {manifest.Revision}) at {manifest.PulledAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
            Console.WriteLine();
            Console.WriteLine("GGUF metadata:");
            foreach (var (key, value) in metadata)
                Console.WriteLine($"  {key,-44} {Shorten(value)}");
            return 0;
        }));

        var rm = new Command("rm", "Remove a model's files (a pulled model's whole folder, with its projector) and free the disk.") { id, models, config };
        rm.SetAction(async (parse, cancellationToken) => await RunAsync(parse, config, models, async (_, installed) =>
        {
            if (Find(installed, parse.GetValue(id)!) is not { } model) return 1;
            var bytes = model.Bytes;
            if (model.Folder is { } folder)
            {
                // The same lock a pull holds: removing a model mid-pull would leave the pull writing into a deleted folder.
                using (await ModelFolderLock.AcquireAsync(folder, Console.Error.WriteLine, cancellationToken))
                {
                    foreach (var file in Directory.EnumerateFiles(folder).Where(f => Path.GetFileName(f) != ModelFolderLock.FileName))
                        File.Delete(file);
                }
                Directory.Delete(folder, recursive: true);
            }
            else
            {
                foreach (var file in model.Files) File.Delete(file);
            }
            Console.WriteLine($"Removed {model.Id} ({model.Folder ?? model.Path}), {ModelPuller.FormatBytes(bytes)} freed. A running server keeps serving it until it restarts.");
            return 0;
        }));

        return new Command("models", "List, inspect and remove installed models.") { list, show, rm };
    }

    private static IReadOnlyList<string> Locations(CastorOptions options, string? named) =>
        named is not null ? [named] : options.Models.Count > 0 ? options.Models : [CastorOptions.DefaultModelsFolder];

    private static InstalledModel? Find(IReadOnlyList<InstalledModel> installed, string id)
    {
        var name = id.StartsWith("models/", StringComparison.Ordinal) ? id["models/".Length..] : id;
        var model = installed.FirstOrDefault(m => string.Equals(m.Id, name, StringComparison.OrdinalIgnoreCase));
        if (model is null)
            Console.Error.WriteLine($"castor: no installed model has the id '{name}'. Installed: {(installed.Count == 0 ? "none" : string.Join(", ", installed.Select(m => m.Id)))}.");
        return model;
    }

    private static string Shorten(string value)
    {
        var oneLine = value.ReplaceLineEndings("⏎");
        return oneLine.Length <= 100 ? oneLine : $"{oneLine[..97]}… ({value.Length} characters)";
    }

    private static int Run(ParseResult parse, Option<string?> config, Option<string?> models, Func<CastorOptions, IReadOnlyList<InstalledModel>, int> action) =>
        RunAsync(parse, config, models, (o, i) => Task.FromResult(action(o, i))).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(ParseResult parse, Option<string?> config, Option<string?> models, Func<CastorOptions, IReadOnlyList<InstalledModel>, Task<int>> action)
    {
        try
        {
            var options = OptionsLoader.Load(parse.GetValue(config));
            return await action(options, InstalledModel.Find(Locations(options, parse.GetValue(models))));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or InvalidOperationException)
        {
            Console.Error.WriteLine($"castor: {ex.Message}");
            return 1;
        }
    }
}
