using System.Globalization;
using Castor.Bench.Gguf;

namespace Castor.Bench;

public sealed class BenchOptions
{
    /// <summary>0: what Castor chooses when nothing is configured (<see cref="Castor.Engine.Models.CpuThreads"/>).</summary>
    public int Threads { get; set; }

    /// <summary>Threads for single-token steps, as the server resolves them.</summary>
    public int DecodeThreads => Threads > 0 ? Threads : Castor.Engine.Models.CpuThreads.DefaultDecode();

    /// <summary>Threads for multi-token steps, as the server resolves them.</summary>
    public int BatchThreads => Threads > 0 ? Threads : Castor.Engine.Models.CpuThreads.DefaultBatch();
    public int Tokens { get; set; } = 128;
    public string Size { get; set; } = "base";
    public GgmlType WeightType { get; set; } = GgmlType.Q8_0;
    public string? Model { get; set; }
    public string? Tokenizer { get; set; }
    public int Runs { get; set; } = 3;
    public int Parallel { get; set; } = 8;
    public IReadOnlyList<int> Concurrency { get; set; } = [1, 2, 4, 8];
    public int ContextSize { get; set; } = 2048;
    public int PrefixTokens { get; set; } = 1000;
    public int TtftRequests { get; set; } = 8;
    public int TtftOutputTokens { get; set; } = 4;
    public int Seed { get; set; } = 42;
    public string Sections { get; set; } = "abcd";
    public IReadOnlyList<int> LongPrompts { get; set; } = [2048, 8192, 16384];
    public string? Cache { get; set; }
    public string? Output { get; set; }
    public bool Verbose { get; set; }
    public bool Help { get; set; }

    public const string Usage = """
        Castor benchmark: decode speed through the HTTP API vs the bare engine, concurrent-stream scaling, and
        time to first token with and without a shared prompt prefix, against a real in-process Castor server.

        Usage: dotnet run -c Release --project bench/Castor.Bench -- [options]

          --threads N          CPU threads for the server and the bare loop, decode and prompts alike (default: Castor's own
                               default, one logical processor fewer than the machine's for decode, all for prompts)
          --tokens N           tokens decoded per stream in (a) and (b) (default 128)
          --size NAME          synthesised model: small (~10 M), base (~100 M, default), large (~400 M)
          --type T             synthesised weight type: q8_0 (default) or f16
          --model PATH         benchmark this GGUF instead of a synthesised one
          --tokenizer PATH     GGUF whose tokenizer the synthesised model copies
                               (default: $CASTOR_TEST_MODELS/stories260K.gguf, else ../shared/models/stories260K.gguf)
          --runs N             measured runs per figure in (a) and (b); medians are reported (default 3)
          --parallel N         server Parallel for (b) and (c) (default 8)
          --concurrency LIST   concurrent streams in (b), comma-separated (default 1,2,4,8)
          --context N          tokens per sequence (server ContextSize and the bare context) (default 2048)
          --prefix-tokens N    length of the shared prefix in (c) (default 1000)
          --ttft-requests N    requests per case in (c) (default 8)
          --seed N             sampling seed (default 42)
          --only SECTIONS      run only some of a, b, c, d, e, f, g, h, i, j, k (e.g. --only ab; d = grammar cost; e = long prompts, f = idle prefixes,
                               g = images on a synthetic vision projector, h = cached contents, i = batch jobs beside interactive traffic,
                               j = Live sessions; k = rate limits' cost; e to k are not in the default run)
          --long-prompts LIST  prompt lengths in tokens for (e), comma-separated (default 2048,8192,16384)
          --cache DIR          where synthesised models are kept (default bench/.cache)
          --output FILE        JSON summary (default bench/results/latest.json)
          --verbose            show the server's start-up banner and logs
          -h, --help           this text
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        var concurrencySet = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? inline = null;
            var eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }
            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Length) throw new BenchException($"{arg} needs a value.");
                return args[++i];
            }
            int Int(int min)
            {
                var text = Value();
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min)
                    throw new BenchException($"{arg} needs a whole number of at least {min}, not '{text}'.");
                return n;
            }

            switch (arg)
            {
                case "--threads" or "-t": o.Threads = Int(1); break;
                case "--tokens" or "-n": o.Tokens = Int(2); break;
                case "--size":
                    o.Size = Value().ToLowerInvariant();
                    if (!ModelShape.Presets.ContainsKey(o.Size))
                        throw new BenchException($"--size must be one of {string.Join(", ", ModelShape.Presets.Keys)}, not '{o.Size}'.");
                    break;
                case "--type":
                    o.WeightType = Value().ToLowerInvariant() switch
                    {
                        "q8_0" or "q8" => GgmlType.Q8_0,
                        "f16" => GgmlType.F16,
                        var t => throw new BenchException($"--type must be q8_0 or f16, not '{t}'."),
                    };
                    break;
                case "--model" or "-m": o.Model = Value(); break;
                case "--tokenizer": o.Tokenizer = Value(); break;
                case "--runs" or "-r": o.Runs = Int(1); break;
                case "--parallel" or "-p": o.Parallel = Int(1); break;
                case "--concurrency":
                    o.Concurrency = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                            ? n : throw new BenchException($"--concurrency takes positive numbers separated by commas, not '{s}'."))
                        .Distinct().Order().ToList();
                    concurrencySet = true;
                    break;
                case "--context" or "-c": o.ContextSize = Int(64); break;
                case "--prefix-tokens": o.PrefixTokens = Int(16); break;
                case "--ttft-requests": o.TtftRequests = Int(1); break;
                case "--seed": o.Seed = Int(0); break;
                case "--only":
                    o.Sections = Value().ToLowerInvariant();
                    if (o.Sections.Length == 0 || o.Sections.Any(c => c is not ('a' or 'b' or 'c' or 'd' or 'e' or 'f' or 'g' or 'h' or 'i' or 'j' or 'k' or ',')))
                        throw new BenchException($"--only takes a subset of a, b, c, d, e, f, g, h, i, j, k, not '{o.Sections}'.");
                    break;
                case "--long-prompts":
                    o.LongPrompts = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 16
                            ? n : throw new BenchException($"--long-prompts takes token counts (16 or more) separated by commas, not '{s}'."))
                        .ToList();
                    break;
                case "--cache": o.Cache = Value(); break;
                case "--output" or "-o": o.Output = Value(); break;
                case "--verbose" or "-v": o.Verbose = true; break;
                case "--help" or "-h" or "-?": o.Help = true; break;
                default: throw new BenchException($"Unknown option '{args[i]}'. Run with --help for the list.");
            }
        }

        if (!concurrencySet)
            o.Concurrency = o.Parallel == 8 ? [1, 2, 4, 8] : PowersOfTwoUpTo(o.Parallel);
        if (o.Concurrency.Count == 0) throw new BenchException("--concurrency needs at least one level.");
        if (o.Tokens + 64 > o.ContextSize)
            throw new BenchException($"--tokens {o.Tokens} does not fit --context {o.ContextSize} with a prompt; raise --context.");
        return o;
    }

    private static List<int> PowersOfTwoUpTo(int n)
    {
        var list = new List<int>();
        for (var c = 1; c < n; c *= 2) list.Add(c);
        list.Add(n);
        return list;
    }

    public bool Includes(char section) => Sections.Contains(section);
}
