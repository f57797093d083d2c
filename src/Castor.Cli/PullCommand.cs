using System.CommandLine;
using Castor.Cli.Pulling;
using Castor.Hub;

namespace Castor.Cli;

/// <summary><c>castor pull SOURCE</c>: fetch a GGUF model (and its projector) from a Hugging Face hub into the models folder.</summary>
internal static class PullCommand
{
    public static Command Create(Option<string?> config)
    {
        var source = new Argument<string>("source")
        {
            Description = "hf.co/{owner}/{repo}:{quant} or {owner}/{repo}[:{quant}] (default quantization Q4_K_M), " +
                          "hf.co/{owner}/{repo}/{file}.gguf, or a short name: " + string.Join(", ", KnownModels.All.Select(m => m.Id)) + ".",
        };
        var models = new Option<string?>("--models", "-m") { Description = "The models folder to pull into (default: the first configured models folder, else ./models)." };
        var command = new Command("pull", "Download a model from Hugging Face (HF_ENDPOINT or Hub:Url; HF_TOKEN for gated repositories) into the models folder.")
        {
            source, models, config,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var options = OptionsLoader.Load(parse.GetValue(config));
                var folder = Puller.ModelsFolder(options, parse.GetValue(models));
                await Puller.PullAsync(options, ModelSource.Parse(parse.GetValue(source)!), folder, Console.Out, cancellationToken);
                return 0;
            }
            catch (PullException ex)
            {
                Console.Error.WriteLine($"castor: {ex.Message}");
                return 1;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("castor: pull stopped; run the same command again to resume where it stopped.");
                return 130;
            }
            catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or InvalidDataException or FormatException or InvalidOperationException)
            {
                Console.Error.WriteLine($"castor: {ex.Message}");
                return 2;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"castor: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
