using System.Diagnostics;
using System.Text;

namespace Castor.IntegrationTests.Chat;

/// <summary>
/// <c>castor chat</c> in a real pseudo-terminal (util-linux <c>script</c>), as a person runs it: typed lines, the
/// answer streaming, and Ctrl+C sent as the terminal sends it (a SIGINT from the line discipline).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ChatTerminalTests(CastorServerFixture server)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Ctrl_C_in_a_terminal_stops_the_answer_and_the_chat_goes_on()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs a Unix pseudo-terminal");
        var castor = Path.Combine(AppContext.BaseDirectory, "castor.dll");
        // exec: script runs the command through $SHELL -c, and a shell that forks (dash, CI's /bin/sh) rather than
        // replacing itself is in the terminal's foreground group too; Ctrl+C kills that shell, and script then reports
        // its 130 although castor chat carried on and ended with 0.
        var command = $"exec dotnet '{castor}' chat --url {server.BaseAddress} --key {CastorServerFixture.ApiKey} --max-tokens 4000";
        var start = new ProcessStartInfo("script", ["-qefc", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["TERM"] = "dumb";
        start.Environment["SHELL"] = "/bin/sh";
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var changed = new SemaphoreSlim(0);
        var reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (output) output.Append(buffer, 0, read);
                changed.Release();
            }
        });

        async Task<string> WaitFor(Func<string, bool> condition, string what)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (true)
            {
                string text;
                lock (output) text = output.ToString();
                if (condition(text)) return text;
                Assert.True(DateTime.UtcNow < deadline && !process.HasExited, $"waited for {what}; the terminal shows:\n{text}");
                await changed.WaitAsync(TimeSpan.FromMilliseconds(500));
            }
        }

        try
        {
            await WaitFor(t => t.Contains("> "), "the prompt");
            await process.StandardInput.WriteAsync("Once upon a time\n");
            await process.StandardInput.FlushAsync();
            // The answer has begun once text follows the echoed line.
            await WaitFor(t => t.LastIndexOf("Once upon a time", StringComparison.Ordinal) is var i and >= 0 && t.Length > i + "Once upon a time".Length + 20, "the answer");
            await process.StandardInput.WriteAsync("\x03");
            await process.StandardInput.FlushAsync();
            await WaitFor(t => t.Contains("[stopped]"), "the answer to stop");
            await WaitFor(t => t.TrimEnd().EndsWith('>'), "the next prompt");
            await process.StandardInput.WriteAsync("/exit\n");
            await process.StandardInput.FlushAsync();
            await process.WaitForExitAsync(new CancellationTokenSource(Patience).Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await reading.WaitAsync(Patience);
        }
    }
}
