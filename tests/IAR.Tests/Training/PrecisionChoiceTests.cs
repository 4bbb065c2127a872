using IAR.Abstractions;
using IAR.Host.Runs;
using IAR.Host.Serialization;
using IAR.Host.Experiments;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;

namespace IAR.Tests.Training;

/// <summary><c>training.precision: auto</c>: resolved from the device and the CPU's flags; explicit values win; the run says which.</summary>
public class PrecisionChoiceTests
{
    // Abridged /proc/cpuinfo texts: two processors, the flag only on the first flags line counts.
    const string Zen5 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\nbugs\t\t: sysret_ss_attrs\n\nprocessor\t: 1\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n";
    const string SapphireRapids = "processor\t: 0\nflags\t\t: fpu avx512f avx512_fp16 amx_bf16 amx_tile amx_int8\n";
    const string Avx2Only = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512_bf16_absent\nbugs\t\t: avx512_bf16\n";

    [Fact]
    public void Auto_picks_bf16_where_the_cpu_flags_name_a_bf16_unit_and_fp32_where_they_do_not()
    {
        Assert.Equal(new CpuMatrixUnits(AmxBf16: false, Avx512Bf16: true), CpuMatrixUnits.FromCpuInfo(Zen5));
        Assert.Equal(new CpuMatrixUnits(AmxBf16: true, Avx512Bf16: false), CpuMatrixUnits.FromCpuInfo(SapphireRapids));
        Assert.Equal(new CpuMatrixUnits(false, false), CpuMatrixUnits.FromCpuInfo(Avx2Only));   // a flag's prefix or another line does not count
        Assert.Equal(new CpuMatrixUnits(false, false), CpuMatrixUnits.FromCpuInfo(""));

        var zen5 = PrecisionChoice.Resolve(PrecisionSetting.Auto, DeviceType.CPU, CpuMatrixUnits.FromCpuInfo(Zen5));
        Assert.Equal(Precision.Bf16, zen5.Precision);
        Assert.Contains("AVX512-BF16", zen5.Reason);
        var amx = PrecisionChoice.Resolve(PrecisionSetting.Auto, DeviceType.CPU, CpuMatrixUnits.FromCpuInfo(SapphireRapids));
        Assert.Equal(Precision.Bf16, amx.Precision);
        Assert.Contains("AMX-BF16", amx.Reason);
        var plain = PrecisionChoice.Resolve(PrecisionSetting.Auto, DeviceType.CPU, CpuMatrixUnits.FromCpuInfo(Avx2Only));
        Assert.Equal(Precision.Fp32, plain.Precision);
        Assert.StartsWith("auto:", plain.Reason);
        Assert.Equal(Precision.Bf16, PrecisionChoice.Resolve(PrecisionSetting.Auto, DeviceType.CUDA, new CpuMatrixUnits(false, false)).Precision);
        Assert.Equal(PrecisionSetting.Fp32, plain.Setting);
        Assert.Equal(PrecisionSetting.Bf16, zen5.Setting);
    }

    [Fact]
    public void An_explicit_precision_wins_over_device_and_flags()
    {
        var both = new CpuMatrixUnits(true, true);
        var none = new CpuMatrixUnits(false, false);
        foreach (var device in new[] { DeviceType.CPU, DeviceType.CUDA })
        {
            Assert.Equal(Precision.Fp32, PrecisionChoice.Resolve(PrecisionSetting.Fp32, device, both).Precision);
            Assert.Equal(Precision.Bf16, PrecisionChoice.Resolve(PrecisionSetting.Bf16, device, none).Precision);
        }
        Assert.Equal("fp32 (training.precision: fp32)", PrecisionChoice.Resolve(PrecisionSetting.Fp32, DeviceType.CPU, both).ToString());
    }

    /// <summary>
    /// A tiny run under the default (auto) and under an explicit fp32: the run log names the precision and why, and the
    /// generator's weights record the resolved precision in the job's training section, never "auto". What auto must
    /// resolve to here is read from /proc/cpuinfo by the test itself.
    /// </summary>
    [Fact]
    public void A_run_logs_the_resolved_precision_and_why_and_its_configuration_records_it()
    {
        string cpuInfo = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        var flags = cpuInfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? [];
        string expectedAuto = flags.Contains("amx_bf16") || flags.Contains("avx512_bf16") ? "bf16" : "fp32";
        foreach (var (overrides, expected, why) in new[] { (Array.Empty<string>(), expectedAuto, "(auto: "), (["training.precision=fp32"], "fp32", "(training.precision: fp32)") })
        {
            using var experiment = new TinyExperiment(steps: 2);
            var run = experiment.Run("run");
            var r = CliRunner.Run([.. experiment.Arguments(run), .. overrides]);
            Assert.True(r.ExitCode == 0, r.ToString());
            var logLine = Assert.Single(File.ReadAllLines(Path.Combine(run, RunLayout.LogFile)), l => l.Contains("generator baseline seed 1: ", StringComparison.Ordinal) && l.Contains(" precision ", StringComparison.Ordinal));
            Assert.Contains($"precision {expected} {why}", logLine);
            var weights = SafeTensorsFile.Open(Path.Combine(run, "arms", "baseline", "seed-1", RunLayout.GeneratorWeightsFile));
            // the job's own training section (the tokenizer's, nested under tokenizer:, keeps auto: fp32 on every machine)
            var config = weights.Metadata[TrainingCheckpoint.Keys.Config];
            Assert.Contains("\ntraining:\n", config);
            var training = string.Concat(config[(config.IndexOf("\ntraining:\n", StringComparison.Ordinal) + 1)..].Split('\n').Skip(1).TakeWhile(l => l.StartsWith(' ')).Select(l => l + "\n"));
            Assert.Contains($"  precision: {expected}\n", training);
            Assert.DoesNotContain("auto", training);
        }
    }
}
