using System.Diagnostics;
using IAR.Host.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// The machine's GEMM limit through libtorch: the yardstick for model FLOP/s utilisation. Each sample times a batch of
/// square matmuls written in place into a preallocated output (<c>c.addmm_(a, b, beta: 0)</c>: the BLAS call alone,
/// no allocation), after warm-up; the reported figure is the median. NumPy's OpenBLAS, when installed, gives a
/// reference figure for the same shapes in the same run.
/// </summary>
public sealed class MatmulPeakBenchmark : IBenchmark
{
    public string Name => "matmul";

    public bool ComparesMklPaths => true;

    public string Description => "GEMM limit: fp32 and bf16 square matmul GFLOP/s (1024², 2048²), preallocated output, median; NumPy/OpenBLAS reference.";

    public void Run(BenchReport report)
    {
        var context = new Dictionary<string, object> { ["threads"] = torch.get_num_threads(), ["mkl_vendor_path"] = MklVendorPath.Active };
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            foreach (int n in new[] { 1024, 2048 })
                report.Add($"matmul {DtypeName(dtype)} {n}²", Gflops(n, dtype, samples: 15), "GFLOP/s", context);
        if (Environment.GetEnvironmentVariable(MklVendorPath.EnvironmentVariable) != "off")
            OpenBlasReference.Run(report, [1024, 2048], samples: 15);
    }

    static string DtypeName(ScalarType dtype) => dtype == ScalarType.Float32 ? "fp32" : "bf16";

    /// <summary>
    /// GFLOP/s samples of n×n by n×n matmuls in <paramref name="dtype"/>: three warm-up calls, then batches of calls
    /// sized to about 0.1 s each, so that the timer's and the loop's cost vanish.
    /// </summary>
    public static double[] Gflops(int n, ScalarType dtype, int samples)
    {
        using var scope = torch.NewDisposeScope();
        using var rng = new torch.Generator(0);
        var a = torch.randn([n, n], generator: rng).to(dtype);
        var b = torch.randn([n, n], generator: rng).to(dtype);
        var c = torch.empty([n, n], dtype);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 3; i++) c.addmm_(a, b, beta: 0, alpha: 1);
        int batch = Math.Max(1, (int)(0.1 / (watch.Elapsed.TotalSeconds / 3)));
        double flops = 2.0 * n * n * n * batch;
        return BenchReport.Time(() =>
        {
            for (int i = 0; i < batch; i++) c.addmm_(a, b, beta: 0, alpha: 1);
        }, repeats: samples, warmup: 0).Select(s => flops / s / 1e9).ToArray();
    }
}
