using IAR.Host.Runs;
using System.Diagnostics;
using System.Globalization;
using IAR.Host.Experiments;

namespace IAR.Bench;

/// <summary>
/// Data parallel on this CPU: the GPT-S generator (batch 64 × 64 tokens, V 1024) trained by the real <c>iar run</c>,
/// one process with 2 libtorch threads against <c>mpirun -np 2</c> with 1 thread per rank, same prepared run (tokenizer
/// and token cache made once), same global batch. Reports tokens/s of each logged window after the first (warm-up),
/// and rank 0's time per step in the collectives (<c>collective_ms</c>: gradient all-reduce, losses, stop agreement).
/// </summary>
public sealed class DataParallelBenchmark : IBenchmark
{
    public string Name => "data-parallel";

    public string Description => "GPT-S training, 1 rank × 2 threads vs mpirun -np 2 × 1 thread: tokens/s and all-reduce ms per step.";

    const int Steps = 50, LogEvery = 10;

    public void Run(BenchReport report)
    {
        var iar = Path.Combine(CliMemoryBenchmark.RepoRoot(), "host", "bin", "Release", "net10.0", "linux-x64", "iar.dll");
        if (!File.Exists(iar)) throw new FileNotFoundException($"{iar} is missing; build it first: dotnet build host -c Release.", iar);
        var dir = Directory.CreateTempSubdirectory("iar-bench-data-parallel-").FullName;
        try
        {
            var experiment = Path.Combine(dir, "gpt-s.yaml");
            File.WriteAllText(experiment, Experiment(Path.Combine(CliMemoryBenchmark.RepoRoot(), "experiments", "data", "fashion-mnist-subset")));
            var prepared = Path.Combine(dir, "prepared");
            Iar([], iar, "run", experiment, "--run-dir", prepared, "--prepare");

            foreach (var (label, launcher) in new (string, string[])[]
                     {
                         ("1 rank × 2 threads", []),
                         ("2 ranks × 1 thread", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "core", "-np", "2"]),
                     })
            {
                var run = Path.Combine(dir, label.Replace(' ', '-'));
                CopyFolder(prepared, run);
                var watch = Stopwatch.StartNew();
                Iar(launcher, iar, "run", experiment, "--run-dir", run, "--job", "baseline/0");
                var lines = MetricsLog.ReadRun(run).Where(r => r.GetProperty("stage").GetString() == "generator").Skip(1).ToArray();
                report.Add($"GPT-S tokens/s, {label}", lines.Select(r => r.GetProperty("tokens_per_s").GetDouble()).ToArray(), "tokens/s",
                    new Dictionary<string, object> { ["steps"] = Steps, ["batch"] = 64, ["wall_s"] = Math.Round(watch.Elapsed.TotalSeconds, 1) });
                if (lines.Length > 0 && lines[0].TryGetProperty("collective_ms", out _))
                    report.Add($"collectives per step, {label}", lines.Select(r => r.GetProperty("collective_ms").GetDouble()).ToArray(), "ms");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static string Experiment(string data) => $$"""
        name: dp-bench
        seed: 0
        data: {path: {{data}}, image_size: 32, channels: 1, train_limit: 1000, test_limit: 100}
        tokenizer:
          plugin: LlamaGen
          preset: VQ-S
          training: {steps: 20, batch_size: 32, lr: 0.001, warmup_steps: 5, log_every: 20}
        generator: {plugin: LlamaGen, preset: GPT-S}
        training: {steps: {{Steps}}, batch_size: 64, lr: 0.001, warmup_steps: 10, log_every: {{LogEvery}}, checkpoint_every: 1000}
        evaluation: {metrics: [token-metrics], every: 1000}
        iar: {cluster_size: 32}
        arms: [{name: baseline}]
        """;

    static void Iar(string[] launcher, string iar, params string[] args)
    {
        string[] command = [.. launcher, "dotnet", iar, .. args];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in command[1..]) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed ({process.ExitCode}): {stderr}{stdout.Result}");
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
