using System.CommandLine;
using Castor.Cli.Chatting;

namespace Castor.Cli;

/// <summary><c>castor chat [MODEL]</c>: a conversation in the terminal with a running server, through its Gemini API.</summary>
internal static class ChatCommand
{
    public static Command Create(Option<string?> config)
    {
        var model = new Argument<string>("model") { Description = "The model to talk to (default: gemini-2.5-flash, which is the server's default model).", DefaultValueFactory = _ => "gemini-2.5-flash" };
        var url = new Option<string?>("--url") { Description = "The server (default: the first of Urls, http://127.0.0.1:8787)." };
        var key = new Option<string?>("--key") { Description = "An API key (default: CASTOR_API_KEY, or ApiKey in the configuration)." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "The most tokens one answer may have (default: the model's limit)." };
        var command = new Command("chat", "Chat with a running castor serve in the terminal (streamed answers, multi-turn, /system, /image, /reset).") { model, url, key, maxTokens, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = OptionsLoader.Load(parse.GetValue(config));
            var address = parse.GetValue(url) ?? options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
            address = address.Replace("://0.0.0.0", "://127.0.0.1").Replace("://[::]", "://127.0.0.1").Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1");
            var apiKey = parse.GetValue(key) ?? options.ApiKey;
            if (string.IsNullOrWhiteSpace(apiKey))
            {
                Console.Error.WriteLine("castor: chat needs an API key: --key KEY, or CASTOR_API_KEY (create one with castor keys create).");
                return 2;
            }
            using var http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.Add("x-goog-api-key", apiKey.Trim());
            var session = new ChatSession(http, parse.GetValue(model)!, Console.In, Console.Out) { MaxOutputTokens = parse.GetValue(maxTokens) };
            // Ctrl+C during an answer stops that answer; at the prompt it ends the program as usual.
            ConsoleCancelEventHandler stop = (_, e) => e.Cancel = session.StopAnswer();
            Console.CancelKeyPress += stop;
            try
            {
                return await session.RunAsync(CancellationToken.None);
            }
            finally
            {
                Console.CancelKeyPress -= stop;
            }
        });
        return command;
    }
}
