using System.Globalization;
using IAR.Host.Serialization;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// Load time of a realistic checkpoint: <c>TorchCheckpoint.Open(…).StateDict()</c> on a LlamaGen GPT-S-shaped
/// training checkpoint (4 of its 12 layers, float16, 103.5 MiB, written by <c>torch.save</c>) and
/// <c>SafeTensorsFile.Open(…).LoadAll()</c> on its safetensors twin, both from the page cache (one warm-up load each).
/// The files come from <c>bench/make_checkpoint.py</c> (IAR_BENCH_CHECKPOINT: its folder, default
/// /tmp/iar-bench-checkpoint); the two loads are checked equal once before timing. Uses only the API the loaders had
/// before they were bounded (issue 25), so the same file runs against the earlier build for a before/after.
/// </summary>
public sealed class CheckpointLoadBenchmark : IBenchmark
{
    public string Name => "checkpoint-load";

    public string Description => "Median load time of a GPT-S-shaped .pt (TorchCheckpoint.StateDict) and its safetensors twin (LoadAll).";

    public void Run(BenchReport report)
    {
        var folder = Environment.GetEnvironmentVariable("IAR_BENCH_CHECKPOINT") is { Length: > 0 } f ? f : "/tmp/iar-bench-checkpoint";
        var pt = Path.Combine(folder, "gpt-s.pt");
        var safetensors = Path.Combine(folder, "gpt-s.safetensors");
        foreach (var file in new[] { pt, safetensors })
            if (!File.Exists(file)) throw new FileNotFoundException($"{file} is missing; make it with /usr/bin/python3 bench/make_checkpoint.py {folder}.", file);
        int repeats = int.TryParse(Environment.GetEnvironmentVariable("IAR_BENCH_REPEATS"), CultureInfo.InvariantCulture, out var r) ? r : 9;
        CheckEqual(pt, safetensors);
        // safetensors first, so its time does not depend on the heap the .pt loads leave behind (which differs
        // between builds: the bounded loader keeps views of one read, the earlier one cloned every tensor).

        double mib = new FileInfo(pt).Length / (double)(1 << 20);
        var context = new Dictionary<string, object> { ["file_mib"] = Math.Round(mib, 1), ["tensors"] = 32 };
        var stSeconds = BenchReport.Time(() => LoadSafeTensors(safetensors), repeats);
        report.Add("safetensors LoadAll (same tensors)", stSeconds.Select(s => s * 1000).ToArray(), "ms", context);
        report.Add("safetensors LoadAll throughput", mib / BenchReport.Median(stSeconds), "MiB/s");
        var ptSeconds = BenchReport.Time(() => LoadPt(pt), repeats);
        report.Add(".pt StateDict (GPT-S 4 layers, f16)", ptSeconds.Select(s => s * 1000).ToArray(), "ms", context);
        report.Add(".pt StateDict throughput", mib / BenchReport.Median(ptSeconds), "MiB/s");
    }

    static void LoadPt(string path)
    {
        using var scope = NewDisposeScope();
        using var checkpoint = TorchCheckpoint.Open(path);
        var (_, tensors) = checkpoint.StateDict();
        if (tensors.Count != 32) throw new InvalidOperationException($"{path}: {tensors.Count} tensors, 32 expected.");
    }

    static void LoadSafeTensors(string path)
    {
        using var scope = NewDisposeScope();
        var tensors = SafeTensorsFile.Open(path).LoadAll();
        if (tensors.Count != 32) throw new InvalidOperationException($"{path}: {tensors.Count} tensors, 32 expected.");
    }

    /// <summary>The two files hold the same tensors, bit for bit (else the bench would compare different work).</summary>
    static void CheckEqual(string pt, string safetensors)
    {
        using var scope = NewDisposeScope();
        using var checkpoint = TorchCheckpoint.Open(pt);
        var (_, fromPt) = checkpoint.StateDict();
        var fromSafeTensors = SafeTensorsFile.Open(safetensors).LoadAll();
        foreach (var (name, t) in fromSafeTensors)
            if (!fromPt.TryGetValue(name, out var p) || p.dtype != t.dtype || !p.shape.SequenceEqual(t.shape) || !p.contiguous().bytes.SequenceEqual(t.contiguous().bytes))
                throw new InvalidOperationException($"{pt} and {safetensors} differ at '{name}'.");
    }
}
