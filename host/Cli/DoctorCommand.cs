using IAR.Host.Runs;
using System.CommandLine;
using IAR.Host.Native;
using Spectre.Console;
using IAR.Host.Experiments;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Cli;

/// <summary><c>iar doctor</c>: what this machine runs on — libtorch, threads, devices, and why CUDA is unavailable.</summary>
public static class DoctorCommand
{
    public static Command Build(ConsoleOutput ctx)
    {
        var command = new Command("doctor", "Show libtorch version, device, threads and CUDA availability.");
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var table = new Table().AddColumns("check", "result");
            table.AddRow("TorchSharp", TorchRuntime.TorchSharpVersion);
            table.AddRow("libtorch", Markup.Escape(TorchRuntime.LibTorchVersion));
            table.AddRow("natives", Markup.Escape(ExternalLibTorch.LoadedFrom is { } external
                ? $"external libtorch {external} (bridge in {TorchRuntime.NativeDirectory})"
                : $"bundled, {TorchRuntime.NativeDirectory}"));
            table.AddRow("system libstdc++", TorchRuntime.SystemGlibcxx() ?? "not found");
            table.AddRow("threads", $"{torch.get_num_threads()} (of {Environment.ProcessorCount} cores)");
            using (var a = torch.ones(64, 64))
            using (var b = a.matmul(a))
                table.AddRow("tensor op", $"ones(64,64) @ ones(64,64) sums to {b.sum().item<float>():F0} (expected {64 * 64 * 64})");
            table.AddRow("MKL vendor path", Markup.Escape(MklVendorPath.Status));
            table.AddRow("malloc thresholds", Markup.Escape(GlibcMalloc.Status));
            double fp32 = GemmGflops(ScalarType.Float32, out var mklChecks);
            table.AddRow("fp32 GEMM", Markup.Escape($"{fp32:F0} GFLOP/s at 1024² (median of 10, {torch.get_num_threads()} threads){mklChecks}"));
            double bf16 = GemmGflops(ScalarType.BFloat16, out _);
            table.AddRow("bf16 GEMM", Markup.Escape($"{bf16:F0} GFLOP/s at 1024² ({bf16 / fp32:F2}× fp32)"));
            bool cuda = torch.cuda.is_available();
            var cpu = CpuMatrixUnits.Current;
            table.AddRow("CPU bf16 units", $"AMX-BF16 {(cpu.AmxBf16 ? "yes" : "no")}, AVX512-BF16 {(cpu.Avx512Bf16 ? "yes" : "no")}");
            table.AddRow("training.precision: auto", Markup.Escape(
                PrecisionChoice.Resolve(PrecisionSetting.Auto, cuda ? DeviceType.CUDA : DeviceType.CPU, cpu).ToString()));
            table.AddRow("CUDA", cuda ? $"available, {torch.cuda.device_count()} device(s)" : Markup.Escape("not available: " + TorchRuntime.CudaUnavailableReason()));
            table.AddRow("device (auto)", cuda ? "cuda" : "cpu");
            table.AddRow("TF32 (CUDA matmul)", Markup.Escape(DeviceSelector.Tf32Status()));
            ctx.Out.Write(table);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// GFLOP/s of the median of ten 1024² matmuls in <paramref name="dtype"/> into a preallocated output after a
    /// warm-up (~0.1 s), and whether MKL consulted the vendor-path library: the in-process evidence that the path is in effect.
    /// </summary>
    static double GemmGflops(ScalarType dtype, out string mklChecks)
    {
        const int n = 1024;
        using var a = torch.randn(n, n, dtype);
        using var b = torch.randn(n, n, dtype);
        using var c = torch.empty(n, n, dtype);
        var seconds = new double[10];
        for (int i = -2; i < seconds.Length; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            c.addmm_(a, b, beta: 0, alpha: 1);   // c = a·b in place: GEMM only, no allocation
            if (i >= 0) seconds[i] = watch.Elapsed.TotalSeconds;
        }
        Array.Sort(seconds);
        mklChecks = MklVendorPath.Active ? $"; MKL asked the vendor-path library {MklVendorPath.Checks} time(s)" : "";
        return 2.0 * n * n * n / ((seconds[4] + seconds[5]) / 2) / 1e9;
    }
}
