using System.Diagnostics;
using System.Globalization;
using IAR.Host.Evaluation;

namespace IAR.Bench;

/// <summary>
/// Peak resident set size of the streaming commands, measured on the real <c>iar</c> executable by <c>/usr/bin/time</c>
/// (the kernel's maxrss): <c>iar sample</c> writing N 32×32 images (grid, one PNG per image, ADM .npz) from a tiny
/// fresh LlamaGen GPT-T + VQ-T (4×4 tokens), then <c>iar evaluate</c> on that .npz against itself with a small-CNN
/// extractor (untrained: the memory, not the score, is measured). N = 50,000 unless IAR_BENCH_IMAGES says otherwise.
/// </summary>
public sealed class CliMemoryBenchmark : IBenchmark
{
    const double TargetMiB = 2048;

    public string Name => "cli-memory";

    public string Description => "Peak RSS of `iar sample` writing 50,000 32x32 images and `iar evaluate` on them; target < 2 GiB each.";

    public void Run(BenchReport report)
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("IAR_BENCH_IMAGES"), CultureInfo.InvariantCulture, out var n) ? n : 50_000;
        var iar = Path.Combine(RepoRoot(), "host", "bin", "Release", "net10.0", "linux-x64", "iar");
        if (!File.Exists(iar)) throw new FileNotFoundException($"{iar} is missing; build it first: dotnet build host -c Release.", iar);
        var dir = Directory.CreateTempSubdirectory("iar-bench-cli-memory-").FullName;
        try
        {
            var sample = Path.Combine(dir, "sample");
            var (sampleMiB, sampleSeconds) = Measure(iar,
                "sample", "--generator", "LlamaGen/GPT-T", "--tokenizer", "LlamaGen/VQ-T",
                "--tokenizer-option", "encoder_ch_mult=1,2,2,2", "--tokenizer-option", "decoder_ch_mult=1,2,2,2",
                "--tokenizer-option", "ch=8", "--tokenizer-option", "norm_groups=4", "--tokenizer-option", "z_channels=8",
                "--image", "3x32x32", "--classes", "10", "--count", count.ToString(CultureInfo.InvariantCulture),
                "--batch-size", "500", "--cfg-scale", "1", "--device", "cpu", "-o", sample);
            report.Add($"iar sample peak RSS ({count} images)", sampleMiB, "MiB", new Dictionary<string, object> { ["target"] = $"< {TargetMiB}" });
            report.Add("iar sample images/s", count / sampleSeconds, "images/s");

            var extractor = Path.Combine(dir, "extractor.safetensors");
            using (var e = new ClassifierFeatureExtractor(new SmallCnnClassifier(new SmallCnnConfig(3, 32, 10)),
                       new FeatureExtractorProvenance("bench (untrained)", 0, 0, null, 0)))
                e.Save(extractor);
            var npz = Path.Combine(sample, "samples.npz");
            var (evaluateMiB, evaluateSeconds) = Measure(iar,
                "evaluate", npz, "--reference", npz, "--extractor", extractor, "--batch-size", "500", "--device", "cpu");
            report.Add($"iar evaluate peak RSS ({count} + {count} images)", evaluateMiB, "MiB", new Dictionary<string, object> { ["target"] = $"< {TargetMiB}" });
            report.Add("iar evaluate images/s", 2.0 * count / evaluateSeconds, "images/s");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Peak RSS (MiB) and wall seconds of one run of the command.</summary>
    static (double MiB, double Seconds) Measure(string executable, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-f", "IAR_PEAK %M %e", executable }.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("/usr/bin/time did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"iar {args[0]} failed ({process.ExitCode}): {stderr}{stdout.Result}");
        var line = stderr.Split('\n').Last(l => l.StartsWith("IAR_PEAK ", StringComparison.Ordinal)).Split(' ');
        return (double.Parse(line[1], CultureInfo.InvariantCulture) / 1024, double.Parse(line[2], CultureInfo.InvariantCulture));
    }

    /// <summary>The repository the bench runs from (its built host is measured).</summary>
    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "IAR.Plugins.sln"))) return d.FullName;
        throw new InvalidOperationException("Run the benchmark from inside the repository.");
    }
}
