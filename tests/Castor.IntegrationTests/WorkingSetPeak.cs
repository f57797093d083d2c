using System.Diagnostics;

namespace Castor.IntegrationTests;

/// <summary>
/// The peak working set of this process (which hosts the test server) while something runs: a baseline after a full
/// collection, then a background sample every <c>interval</c> until <see cref="StopAsync"/>.
/// </summary>
public sealed class WorkingSetPeak : IAsyncDisposable
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private long _peak;

    private WorkingSetPeak(TimeSpan interval)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        _process.Refresh();
        Baseline = _peak = _process.WorkingSet64;
        _sampler = Task.Run(() => SampleAsync(interval));
    }

    public static WorkingSetPeak Start(TimeSpan interval) => new(interval);

    public long Baseline { get; }
    public long Peak => Interlocked.Read(ref _peak);
    public long Growth => Peak - Baseline;

    private async Task SampleAsync(TimeSpan interval)
    {
        while (!_stop.IsCancellationRequested)
        {
            _process.Refresh();
            var now = _process.WorkingSet64;
            if (now > Interlocked.Read(ref _peak)) Interlocked.Exchange(ref _peak, now);
            try { await Task.Delay(interval, _stop.Token); } catch (OperationCanceledException) { }
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _sampler;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _process.Dispose();
    }
}
