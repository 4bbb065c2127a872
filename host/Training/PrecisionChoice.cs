using IAR.Abstractions;
using IAR.Host.Experiments;
using TorchSharp;

namespace IAR.Host.Training;

/// <summary>The bf16 matrix instructions of this CPU, from the <c>flags</c> line of <c>/proc/cpuinfo</c>.</summary>
public sealed record CpuMatrixUnits(bool AmxBf16, bool Avx512Bf16)
{
    static readonly Lazy<CpuMatrixUnits> current = new(() =>
        File.Exists("/proc/cpuinfo") ? FromCpuInfo(File.ReadAllText("/proc/cpuinfo")) : new CpuMatrixUnits(false, false));

    /// <summary>This machine's (read once per process); neither unit where <c>/proc/cpuinfo</c> does not exist.</summary>
    public static CpuMatrixUnits Current => current.Value;

    /// <summary>The units the first <c>flags</c> line of a <c>/proc/cpuinfo</c> text names (<c>amx_bf16</c>, <c>avx512_bf16</c>).</summary>
    public static CpuMatrixUnits FromCpuInfo(string cpuInfo)
    {
        var line = cpuInfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Contains(':'));
        var flags = line is null ? [] : line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        return new CpuMatrixUnits(flags.Contains("amx_bf16"), flags.Contains("avx512_bf16"));
    }
}

/// <summary>A resolved <c>training.precision</c> and why: what the run log and <c>iar doctor</c> print.</summary>
public sealed record PrecisionDecision(Precision Precision, string Reason)
{
    /// <summary>The setting that writes this precision explicitly (what a job's configuration records, never auto).</summary>
    public PrecisionSetting Setting => Precision == Precision.Bf16 ? PrecisionSetting.Bf16 : PrecisionSetting.Fp32;

    public override string ToString() => $"{Precision.ToString().ToLowerInvariant()} ({Reason})";
}

/// <summary>
/// Resolves <c>training.precision: auto</c> from the device and the CPU's flags alone, so that one machine kind always
/// resolves the same way (a timing taken at start-up could flip on a loaded machine and change a run's identity). The
/// flags stand for a measurement: bench <c>precision</c> shows the bf16 step faster than fp32 where the CPU has
/// AVX512-BF16 or AMX-BF16 (bench/README.md), and without either libtorch emulates bf16 matmuls, slower than fp32.
/// </summary>
public static class PrecisionChoice
{
    /// <summary>An explicit fp32 / bf16 as written; auto: bf16 on CUDA or a CPU with AMX-BF16 / AVX512-BF16, else fp32.</summary>
    public static PrecisionDecision Resolve(PrecisionSetting setting, DeviceType device, CpuMatrixUnits cpu) => setting switch
    {
        PrecisionSetting.Fp32 => new(Precision.Fp32, "training.precision: fp32"),
        PrecisionSetting.Bf16 => new(Precision.Bf16, "training.precision: bf16"),
        _ when device == DeviceType.CUDA => new(Precision.Bf16, "auto: CUDA device"),
        _ when device != DeviceType.CPU => new(Precision.Fp32, $"auto: {device} device, bf16 is chosen automatically only on CUDA and bf16 CPUs"),
        _ when cpu.AmxBf16 => new(Precision.Bf16, "auto: the CPU has AMX-BF16"),
        _ when cpu.Avx512Bf16 => new(Precision.Bf16, "auto: the CPU has AVX512-BF16"),
        _ => new(Precision.Fp32, "auto: the CPU has neither AMX-BF16 nor AVX512-BF16, so bf16 matmuls would be emulated"),
    };
}
