using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using IAR.Host.Native;
using TorchSharp;

namespace IAR.Tests.Foundation;

public class MklVendorPathTests
{
    static bool AmdWithAvx2 => X86Base.IsSupported && Avx2.IsSupported && Fma.IsSupported && CpuVendor() == "AuthenticAMD";

    [Fact]
    public void The_build_places_a_library_that_answers_mkls_vendor_question_beside_libtorch()
    {
        var library = Path.Combine(AppContext.BaseDirectory, MklVendorPath.LibraryFile);
        Assert.True(File.Exists(library), $"{library} was not built (host/Native/Build/TorchSharpNatives.targets)");
        var exported = ElfDynamicSymbols.Read(library).Defined;
        Assert.Contains("mkl_serv_intel_cpu_true", exported);
        // the symbol must be the one libtorch's MKL calls, or loading the library changes nothing
        Assert.Contains("mkl_serv_intel_cpu_true", ElfDynamicSymbols.Read(Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so")).Defined);
    }

    [Fact]
    public void On_an_amd_cpu_mkl_consults_the_library_and_elsewhere_nothing_is_loaded()
    {
        using (var a = torch.ones(256, 256))
        using (var b = a.matmul(a))
            Assert.Equal(256f, b[0, 0].item<float>());
        if (AmdWithAvx2 && Environment.GetEnvironmentVariable(MklVendorPath.EnvironmentVariable) != "off")
        {
            Assert.True(MklVendorPath.Active, MklVendorPath.Status);
            Assert.StartsWith("on:", MklVendorPath.Status);
            Assert.True(MklVendorPath.Checks > 0, "MKL ran a GEMM without asking the library: its lookup did not reach it");
        }
        else
        {
            Assert.False(MklVendorPath.Active, MklVendorPath.Status);
            Assert.Equal(0, MklVendorPath.Checks);
        }
    }

    [Fact]
    public void Doctor_shows_the_path_and_the_switch_turns_it_off()
    {
        var on = Doctor(MklVendorPath.EnvironmentVariable, null);
        var off = Doctor(MklVendorPath.EnvironmentVariable, "off");
        Assert.Contains("MKL vendor path", on);
        Assert.Contains("off (IAR_MKL_VENDOR_PATH=off)", off);
        Assert.DoesNotContain("asked the vendor-path library", off);
        if (AmdWithAvx2) Assert.Matches("asked the vendor-path library [1-9][0-9]* time", on);
        Assert.Contains("is neither auto nor off", Doctor(MklVendorPath.EnvironmentVariable, "yes"));
    }

    /// <summary><c>iar doctor</c>'s table as one line of words, with <paramref name="variable"/> set (null: unset).</summary>
    internal static string Doctor(string variable, string? setting)
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "iar.dll"), "doctor"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["COLUMNS"] = "250";
        if (setting is null) psi.Environment.Remove(variable);
        else psi.Environment[variable] = setting;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stdout.Result + stderr.Result);
        // the table wraps long cells: join them into one line of words
        return System.Text.RegularExpressions.Regex.Replace(stdout.Result, @"[\s│┌┐└┘├┤┬┴┼─]+", " ");
    }

    static string CpuVendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        return string.Concat(new[] { ebx, edx, ecx }.Select(r => System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes(r))));
    }
}
