using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Castor.IntegrationTests.Files;

/// <summary>`dotnet castor.dll serve` as a child process (what an operator runs), so a test can SIGKILL it and start it again.</summary>
public sealed partial class CastorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CastorProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;
    public string Output { get { lock (_output) return _output.ToString(); } }

    public static async Task<CastorProcess> StartAsync(string dataFolder, string apiKey, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<string>? arguments = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { CastorDll(), "serve", "--urls", "http://127.0.0.1:0", "--models", TestModels.Stories260K, "--data", dataFolder, "--threads", "1" })
            start.ArgumentList.Add(arg);
        foreach (var arg in arguments ?? []) start.ArgumentList.Add(arg);
        start.Environment["CASTOR_API_KEY"] = apiKey;
        start.Environment["CASTOR_BUILTIN_EMBEDDING_MODEL"] = "false";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var castor = new CastorProcess(Process.Start(start)!);
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (castor._output) castor._output.AppendLine(line);
            if (Banner().Match(line) is { Success: true } m) ready.TrySetResult(new Uri(m.Groups[1].Value));
        }
        castor._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        castor._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        castor._process.BeginOutputReadLine();
        castor._process.BeginErrorReadLine();
        _ = castor._process.WaitForExitAsync().ContinueWith(_ => ready.TrySetException(new InvalidOperationException("castor exited before it was ready:\n" + castor.Output)));
        try
        {
            castor.BaseAddress = await ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch
        {
            await castor.DisposeAsync();
            throw;
        }
        return castor;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a power cut or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a service manager or Kubernetes stops a process: the server drains and exits on its own.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, SigTerm) != 0) throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }

    /// <summary>The CLI built in the same configuration as the tests (as scripts/test.sh builds it), else the copy beside the tests.</summary>
    private static string CastorDll()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Castor.slnx"))) dir = dir.Parent;
        var built = dir is null ? null : Path.Combine(dir.FullName, "src", "Castor.Cli", "bin", configuration, "net10.0", "castor.dll");
        return built is not null && File.Exists(built) ? built : Path.Combine(AppContext.BaseDirectory, "castor.dll");
    }

    [GeneratedRegex(@"point an SDK's base URL at (https?://[^\s)]+)")]
    private static partial Regex Banner();
}
