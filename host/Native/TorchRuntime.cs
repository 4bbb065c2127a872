using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace IAR.Host.Native;

/// <summary>Facts about the loaded TorchSharp/libtorch, for <c>iar doctor</c> and run logs.</summary>
public static class TorchRuntime
{
    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "?";

    public static string LibTorchVersion => torch.__version__;

    /// <summary>Where the native TorchSharp bridge was loaded from (the build output unless redirected).</summary>
    public static string NativeDirectory => AppContext.BaseDirectory;

    /// <summary>Why <c>torch.cuda.is_available()</c> is false, in one sentence.</summary>
    public static string CudaUnavailableReason()
    {
        var baseDir = AppContext.BaseDirectory;
        bool cpuOnlyBuild = File.Exists(Path.Combine(baseDir, "libtorch_cpu.so")) && !File.Exists(Path.Combine(baseDir, "libtorch_cuda.so"));
        if (cpuOnlyBuild)
            return "this build bundles the CPU-only libtorch of TorchSharp-cpu (libtorch_cuda.so is absent); see the README's CUDA section.";
        if (!File.Exists("/proc/driver/nvidia/version"))
            return "no NVIDIA driver is loaded on this machine (/proc/driver/nvidia/version is absent).";
        return "libtorch found no usable CUDA device (check the driver version against libtorch's CUDA version).";
    }

    /// <summary>The newest GLIBCXX version of the system's libstdc++, e.g. <c>GLIBCXX_3.4.30</c>, or null.</summary>
    public static string? SystemGlibcxx()
    {
        foreach (var candidate in new[] { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" })
        {
            if (!File.Exists(candidate)) continue;
            var text = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(candidate));
            return System.Text.RegularExpressions.Regex.Matches(text, @"GLIBCXX_3\.4\.([0-9]+)")
                .Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(-1).Max() is var v and >= 0 ? $"GLIBCXX_3.4.{v}" : null;
        }
        return null;
    }

    public static string Describe() =>
        $"TorchSharp {TorchSharpVersion}, libtorch {LibTorchVersion}, {torch.get_num_threads()} threads, " +
        $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}; MKL vendor path {MklVendorPath.Status}; " +
        $"malloc thresholds {GlibcMalloc.Status}";
}
