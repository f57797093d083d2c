using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Castor.Application.Keys;
using Castor.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castor.IntegrationTests.Limits;

/// <summary>
/// A server with small concurrency limits (2 a key, 3 a project), two projects' keys, and its log lines captured,
/// so the fairness and logging tests can count exactly.
/// </summary>
public class LimitsServerFixture : CastorServerFixture, IAsyncLifetime
{
    public const int PerKey = 2;
    public const int PerProject = 3;

    public CreatedKey FloodKey { get; private set; } = null!;
    public CreatedKey FloodKey2 { get; private set; } = null!;
    public CreatedKey OtherProjectKey { get; private set; } = null!;
    public CapturedLog Log { get; } = new();

    protected override CastorOptions CreateOptions()
    {
        var options = base.CreateOptions();
        options.Limits = new LimitsOptions { MaxConcurrentRequestsPerKey = PerKey, MaxConcurrentRequestsPerProject = PerProject };
        return options;
    }

    protected override void ConfigureLogging(ILoggingBuilder logging) => logging.AddProvider(Log);

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var keys = App.Services.GetRequiredService<ApiKeyService>();
        FloodKey = await keys.CreateKeyAsync("flood");
        FloodKey2 = await keys.CreateKeyAsync("flood");
        OtherProjectKey = await keys.CreateKeyAsync("quiet");
    }

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();
}

/// <summary>Every log line the server writes, formatted, with its category and level.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner.Lines.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception)));
        }
    }
}

/// <summary>
/// A request over a raw socket whose body is held back: the server has the headers (and so runs the key check and the
/// limits) but cannot finish until the test sends the rest. It holds a place deterministically, without timing.
/// The body starts with JSON whitespace, trickled a little at a time, so Kestrel's minimum data rate (which cuts a
/// silent body after a few seconds) never ends the request while it is held.
/// </summary>
public sealed class HeldRequest : IAsyncDisposable
{
    private const int Padding = 60 * 1024;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _body;
    private readonly CancellationTokenSource _stopTrickle = new();
    private Task _trickle = Task.CompletedTask;
    private int _sent;

    private HeldRequest(TcpClient tcp, byte[] body)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _body = body;
    }

    public static async Task<HeldRequest> StartAsync(Uri server, string path, string apiKey, string body, bool bearer = false)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var bytes = Encoding.UTF8.GetBytes(new string(' ', Padding) + body);
        var auth = bearer ? $"Authorization: Bearer {apiKey}" : $"x-goog-api-key: {apiKey}";
        var head = $"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        var held = new HeldRequest(tcp, bytes);
        await held._stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await held.SendAsync(64);
        held._trickle = held.TrickleAsync();
        return held;
    }

    private async Task SendAsync(int count)
    {
        count = Math.Min(count, _body.Length - _sent);
        await _stream.WriteAsync(_body.AsMemory(_sent, count));
        await _stream.FlushAsync();
        _sent += count;
    }

    // 640 bytes a second, well above Kestrel's 240; the padding lasts about 90 s.
    private async Task TrickleAsync()
    {
        try
        {
            while (_sent < Padding - 64)
            {
                await Task.Delay(100, _stopTrickle.Token);
                await SendAsync(64);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Sends the rest of the body and reads the whole response (the connection closes after it).</summary>
    public async Task<string> FinishAsync()
    {
        await _stopTrickle.CancelAsync();
        await _trickle;
        await SendAsync(_body.Length - _sent);
        return await ReadResponseAsync();
    }

    /// <summary>Reads the response without sending the rest of the body (the server answered on its own).</summary>
    public async Task<string> ReadResponseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await _stream.ReadAsync(chunk, timeout.Token)) > 0) buffer.Write(chunk, 0, read);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _stopTrickle.CancelAsync();
        await _trickle;
        _tcp.Dispose();
        _stopTrickle.Dispose();
    }
}
