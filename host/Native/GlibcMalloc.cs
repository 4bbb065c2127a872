using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace IAR.Host.Native;

/// <summary>
/// Keeps glibc's malloc from handing a training step's memory back to the kernel. libtorch allocates CPU tensors
/// with malloc; glibc serves a large block from a fresh <c>mmap</c> until its dynamic threshold has grown past that
/// size, and trims the heap whenever its free top exceeds twice that threshold, so a step whose tensors come and go
/// (activations, dropout masks, gradients: 4–16 MB each in a GPT-S step) keeps refaulting fresh pages, each zeroed by
/// the kernel. With the thresholds fixed at 32 MiB (mmap; glibc's own upper bound for the dynamic one) and 128 MiB
/// (trim), a GPT-S step with dropout 0.1 no longer has slow outliers (bench <c>llamagen-train</c>: bench/README.md).
/// The cost is up to 128 MiB of freed memory kept per malloc arena. <c>IAR_GLIBC_MALLOC=off</c> leaves malloc as it is.
/// </summary>
public static class GlibcMalloc
{
    public const string EnvironmentVariable = "IAR_GLIBC_MALLOC";

    const int TrimThresholdOption = -1, MmapThresholdOption = -3;   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD (malloc.h)
    const int MmapThreshold = 32 << 20, TrimThreshold = 128 << 20;

    static readonly Lazy<string> Decision = new(Decide);

    /// <summary>One line for <c>iar doctor</c> and run logs: on, off or not applied, and why.</summary>
    public static string Status => Decision.IsValueCreated ? Decision.Value : "not applied yet (GlibcMalloc.Apply runs when the host assembly loads)";

#pragma warning disable CA2255 // the host is the application; the thresholds must be set before libtorch allocates
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => Apply();

    /// <summary>Sets the thresholds once per process unless the environment says off; idempotent and thread-safe.</summary>
    public static void Apply() => _ = Decision.Value;

    static string Decide()
    {
        var setting = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (setting is "off") return $"off ({EnvironmentVariable}=off)";
        if (!string.IsNullOrEmpty(setting) && setting != "auto")
            return $"not applied: {EnvironmentVariable}='{setting}' is neither auto nor off";
        if (!OperatingSystem.IsLinux()) return "not applied: only glibc on Linux is handled";
        try
        {
            if (mallopt(MmapThresholdOption, MmapThreshold) != 1 || mallopt(TrimThresholdOption, TrimThreshold) != 1)
                return "not applied: mallopt refused the thresholds";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "not applied: no glibc mallopt in this process (another C library)";
        }
        return $"on: mmap threshold 32 MiB, trim threshold 128 MiB (freed tensor memory stays in the process; {EnvironmentVariable}=off disables)";
    }

    [DllImport("libc.so.6")]
    static extern int mallopt(int option, int value);
}
