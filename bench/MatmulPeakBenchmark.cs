using TorchSharp;

namespace IAR.Bench;

/// <summary>The machine's fp32 matmul throughput: the yardstick for model FLOP/s utilisation.</summary>
public sealed class MatmulPeakBenchmark : IBenchmark
{
    public string Name => "matmul";

    public string Description => "fp32 square matmul GFLOP/s (256, 512, 1024, 2048) with libtorch's default threads.";

    public void Run(BenchReport report)
    {
        foreach (int n in new[] { 256, 512, 1024, 2048 })
        {
            using var a = torch.randn(n, n);
            using var b = torch.randn(n, n);
            int inner = Math.Max(1, (int)(2e9 / (2.0 * n * n * n)));   // ~2 GFLOP per sample
            var seconds = BenchReport.Time(() =>
            {
                for (int i = 0; i < inner; i++) a.matmul(b).Dispose();
            }, repeats: 7);
            var gflops = seconds.Select(s => 2.0 * n * n * n * inner / s / 1e9).ToArray();
            report.Add($"matmul {n}x{n}", gflops, "GFLOP/s", new Dictionary<string, object> { ["threads"] = torch.get_num_threads() });
        }
    }
}
