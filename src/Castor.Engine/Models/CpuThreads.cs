using System.Globalization;

namespace Castor.Engine.Models;

/// <summary>
/// How many CPU threads llama.cpp gets when none are configured. Decoding one token per step (a single stream) runs on
/// <see cref="DefaultDecode()"/> threads and leaves a logical processor to the server: llama.cpp's threads meet at a
/// barrier for every operation of a step, so a server thread that takes a core from them (sampling the next token,
/// writing the last one to a socket) stalls the whole step. Measured on 2 cores (bench section a, 2026-12-02): one
/// decode thread streamed 5,690 tokens/s through HTTP on the test model against 698 with both cores, and 224 against
/// 170 on the ~100 M bench model. Steps of many tokens (prompts, several sequences) are compute-bound and get every
/// logical processor (<see cref="DefaultBatch"/>): prefill keeps its speed.
/// </summary>
public static class CpuThreads
{
    /// <summary>Threads for single-token steps: one logical processor fewer than the process may use, at most one per
    /// physical core (hyper-threads add little to llama.cpp's kernels), at least one.</summary>
    public static int DefaultDecode() => DefaultDecode(Environment.ProcessorCount, PhysicalCores());

    /// <summary>Threads for multi-token steps: every logical processor the process may use.</summary>
    public static int DefaultBatch() => Environment.ProcessorCount;

    /// <param name="logicalProcessors">What the process may use (<see cref="Environment.ProcessorCount"/> follows container limits).</param>
    /// <param name="physicalCores">Physical cores of the machine, or null when unknown.</param>
    public static int DefaultDecode(int logicalProcessors, int? physicalCores) =>
        Math.Max(1, Math.Min(logicalProcessors - 1, physicalCores ?? int.MaxValue));

    /// <summary>Distinct (package, core) pairs in Linux's CPU topology; null elsewhere or when it cannot be read.</summary>
    public static int? PhysicalCores()
    {
        const string root = "/sys/devices/system/cpu";
        try
        {
            if (!Directory.Exists(root)) return null;
            var cores = new HashSet<(string Package, string Core)>();
            foreach (var cpu in Directory.EnumerateDirectories(root, "cpu*"))
            {
                var name = Path.GetFileName(cpu);
                if (name.Length <= 3 || !int.TryParse(name.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
                var topology = Path.Combine(cpu, "topology");
                var core = Path.Combine(topology, "core_id");
                if (!File.Exists(core)) continue;
                var package = Path.Combine(topology, "physical_package_id");
                cores.Add((File.Exists(package) ? File.ReadAllText(package).Trim() : "0", File.ReadAllText(core).Trim()));
            }
            return cores.Count > 0 ? cores.Count : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
