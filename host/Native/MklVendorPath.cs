using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace IAR.Host.Native;

/// <summary>
/// MKL's Intel code path on AMD CPUs. libtorch's bundled MKL asks <c>mkl_serv_intel_cpu_true</c> before it picks
/// kernels and, on a non-Intel CPU, takes a generic path that reaches about half of an AVX-512 core's fp32 GEMM
/// throughput. <c>libiar_mkl_intel_cpu.so</c> (host/Native/Build/mkl_intel_cpu.c, compiled at build time) answers
/// yes; loaded with RTLD_GLOBAL before libtorch, it precedes libtorch_cpu.so's own answer in the symbol lookup, as
/// LD_PRELOAD would, and MKL then dispatches on the CPU's actual features. Applied only on AMD CPUs with AVX2 and FMA
/// (the least MKL's Intel kernels need); <c>IAR_MKL_VENDOR_PATH=off</c> leaves MKL as it is. Results are
/// deterministic within one configuration but differ in the last bits from the generic path's.
/// </summary>
public static class MklVendorPath
{
    public const string EnvironmentVariable = "IAR_MKL_VENDOR_PATH";

    public const string LibraryFile = "libiar_mkl_intel_cpu.so";

    const int RtldNow = 0x2, RtldGlobal = 0x100;

    static readonly Lock Gate = new();
    static bool applied;
    static IntPtr library;

    /// <summary>Whether the library was loaded before libtorch (MKL's Intel path is then in effect).</summary>
    public static bool Active { get; private set; }

    /// <summary>One line for <c>iar doctor</c> and run logs: on, off or not applied, and why.</summary>
    public static string Status { get; private set; } = "not applied yet (MklVendorPath.Apply runs when the host assembly loads)";

    /// <summary>
    /// How often MKL asked for the CPU vendor and got the library's answer (0 while inactive). Above zero after a
    /// GEMM proves that MKL's lookup reached the library; MKL asks once per process and kernel family.
    /// </summary>
    public static long Checks
    {
        get
        {
            if (library == IntPtr.Zero || !NativeLibrary.TryGetExport(library, "iar_mkl_intel_cpu_checks", out var export)) return 0;
            return Marshal.GetDelegateForFunctionPointer<CheckCount>(export)();
        }
    }

    /// <summary>The host assembly applies the path as it loads: before anything of it can touch TorchSharp.</summary>
#pragma warning disable CA2255 // the host is the application; this must run before libtorch loads, whoever comes first
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => Apply();

    /// <summary>
    /// Loads the library when the CPU, the environment and the build allow it; idempotent. Must run before TorchSharp
    /// loads libtorch (the first torch call), so test and benchmark assemblies call it first too.
    /// </summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (applied) return;
            applied = true;
            (Active, Status) = Decide();
        }
    }

    static (bool, string) Decide()
    {
        var setting = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (setting is "off") return (false, $"off ({EnvironmentVariable}=off)");
        if (!string.IsNullOrEmpty(setting) && setting != "auto")
            return (false, $"not applied: {EnvironmentVariable}='{setting}' is neither auto nor off");
        if (!OperatingSystem.IsLinux() || !X86Base.IsSupported) return (false, "not applied: only x86-64 Linux is handled");
        var vendor = CpuVendor();
        if (vendor != "AuthenticAMD") return (false, $"not needed: {vendor} CPU (MKL chooses its kernels itself)");
        if (!Avx2.IsSupported || !Fma.IsSupported) return (false, "not applied: this AMD CPU lacks AVX2 or FMA, which MKL's Intel kernels need");
        string isa = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported ? "AVX-512" : "AVX2";
        if (LibTorchLoaded())
            return (false, "not applied: libtorch was loaded before MklVendorPath.Apply ran, so MKL already has its answer");
        var path = Path.Combine(AppContext.BaseDirectory, LibraryFile);
        if (!File.Exists(path)) return (false, $"not applied: {path} is missing (gcc was not available at build time)");
        library = dlopen(path, RtldNow | RtldGlobal);
        if (library == IntPtr.Zero) return (false, $"not applied: loading {path} failed: {Marshal.PtrToStringUTF8(dlerror())}");
        return (true, $"on: AMD CPU with {isa}, MKL takes its Intel code path ({LibraryFile} loaded before libtorch; {EnvironmentVariable}=off disables)");
    }

    /// <summary>CPUID leaf 0: EBX, EDX, ECX spell the vendor, e.g. <c>AuthenticAMD</c>, <c>GenuineIntel</c>.</summary>
    static string CpuVendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        var bytes = new byte[12];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), ebx);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), edx);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), ecx);
        return System.Text.Encoding.ASCII.GetString(bytes);
    }

    static bool LibTorchLoaded()
    {
        try
        {
            return File.ReadLines("/proc/self/maps").Any(line => line.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    // NativeLibrary.Load opens libraries RTLD_LOCAL; only an RTLD_GLOBAL library takes part in other libraries' lookups.
    // libdl.so.2 exists on every glibc (a stub forwarding to libc.so.6 since glibc 2.34).
    [DllImport("libdl.so.2")]
    static extern IntPtr dlopen(string path, int flags);

    [DllImport("libdl.so.2")]
    static extern IntPtr dlerror();

    delegate long CheckCount();
}
