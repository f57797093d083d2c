using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Castor.Application.Media;

/// <summary>
/// FLAC, AAC and non-Vorbis Ogg through FFmpeg as a child process (no managed decoder exists for them here): the file's
/// bytes go in on stdin, mono 32-bit float at the target rate comes out on stdout (FFmpeg resamples). It may open no
/// file and no network address (<c>-protocol_whitelist pipe</c>), may only use the demuxers of the claimed type, runs
/// one thread, is killed at <see cref="MediaLimits.FfmpegTimeout"/>, on cancellation, or as soon as its output passes
/// <see cref="MediaLimits.MaxAudioSeconds"/>.
/// </summary>
internal static class FfmpegAudioDecoding
{
    public static async Task<float[]> DecodeAsync(byte[] bytes, MediaFormat format, int sampleRate, MediaLimits limits, CancellationToken cancellationToken)
    {
        var name = MediaFormats.Name(format);
        if (string.IsNullOrWhiteSpace(limits.FfmpegPath))
            throw new MediaRefusal($"{name} needs FFmpeg, which this server has turned off (Media:FfmpegPath); send WAV, MP3, AIFF or Ogg Vorbis.");
        // mov,mp4,m4a is one demuxer (AAC in .m4a); an .m4a whose index sits at its end cannot be read from a pipe.
        var demuxers = format switch
        {
            MediaFormat.Flac => "flac",
            MediaFormat.Aac => "aac,mov",
            _ => "ogg",
        };
        var start = new ProcessStartInfo(limits.FfmpegPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var arg in (string[])["-hide_banner", "-nostats", "-loglevel", "error", "-threads", "1",
                     "-protocol_whitelist", "pipe", "-format_whitelist", demuxers, "-i", "pipe:0",
                     "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-f", "f32le", "pipe:1"])
            start.ArgumentList.Add(arg);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new MediaRefusal($"{name} could not be decoded: FFmpeg did not start.");
        }
        catch (Win32Exception)
        {
            throw new MediaRefusal($"{name} needs FFmpeg, which is not installed on this server (Debian: apt-get install ffmpeg); send WAV, MP3, AIFF or Ogg Vorbis.");
        }

        using (process)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(limits.FfmpegTimeout);
            await using var kill = timeout.Token.Register(() => Kill(process));
            var maxBytes = (PcmAudio.MaxFrames(limits, sampleRate) + 1) * sizeof(float);
            var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            var feed = FeedAsync(process, bytes, timeout.Token);
            var output = new MemoryStream();
            var tooLong = false;
            try
            {
                var buffer = new byte[81_920];
                int n;
                while ((n = await process.StandardOutput.BaseStream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false)) > 0)
                {
                    output.Write(buffer, 0, n);
                    if (output.Length > maxBytes)
                    {
                        tooLong = true;
                        Kill(process);
                        break;
                    }
                }
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                cancellationToken.ThrowIfCancellationRequested();
                throw new MediaRefusal($"decoding the {name} audio took longer than {limits.FfmpegTimeout.TotalSeconds:0} seconds.");
            }
            await feed.ConfigureAwait(false);
            if (tooLong) throw PcmAudio.TooLong(name, limits);
            var stderr = await errors.ConfigureAwait(false);
            if (process.ExitCode != 0 || output.Length < sizeof(float))
            {
                var reason = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
                throw new MediaRefusal($"the {name} file is corrupt, truncated or not {name}" +
                                       (reason is null ? "." : $" (FFmpeg: {(reason.Length > 200 ? reason[..200] : reason)})."));
            }
            var samples = MemoryMarshal.Cast<byte, float>(output.GetBuffer().AsSpan(0, (int)(output.Length - output.Length % sizeof(float)))).ToArray();
            for (var i = 0; i < samples.Length; i++) samples[i] = WavDecoding.Clamp(samples[i]);
            return samples;
        }
    }

    private static async Task FeedAsync(Process process, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // FFmpeg stopped reading (it failed, or was killed): its exit code and stderr tell why.
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }
}
