using System.Diagnostics;
using IAR.Abstractions;
using IAR.Host.Native;
using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

public class ExternalLibTorchTests
{
    static string Bridge => Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");

    [Fact]
    public void The_bundled_libtorch_exports_every_symbol_the_bridge_needs()
    {
        // the test output holds the libtorch 2.10 that TorchSharp 0.107 was built for
        Assert.Empty(ExternalLibTorch.MissingSymbols(AppContext.BaseDirectory, Bridge));
        Assert.True(ElfDynamicSymbols.Read(Bridge).UndefinedUnversioned.Count > 500, "the bridge should need hundreds of libtorch symbols");
    }

    [Fact]
    public void A_foreign_library_is_reported_with_the_missing_symbols()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
            File.Copy(Path.Combine(AppContext.BaseDirectory, "libSkiaSharp.so"), dir.File(name));
        var missing = ExternalLibTorch.MissingSymbols(dir.Path, Bridge);
        Assert.True(missing.Count > 500);
        Assert.Contains(missing, s => s.StartsWith("_ZN2at", StringComparison.Ordinal));
    }

    [Fact]
    public void A_build_that_bundles_libtorch_refuses_an_external_one()
    {
        var e = Assert.Throws<ConfigurationException>(() => ExternalLibTorch.Load(AppContext.BaseDirectory));
        Assert.Contains("-p:IarTorchBackend=external", e.Message);
        using var dir = new TempDir();
        Assert.Contains("lacks libc10.so", Assert.Throws<ConfigurationException>(() => ExternalLibTorch.Load(dir.Path)).Message);
    }

    [Fact]
    public void An_external_backend_publish_runs_on_a_libtorch_from_another_folder()
    {
        using var dir = new TempDir();
        var publish = dir.File("app");
        Run("dotnet", ["publish", Path.Combine(RepoPaths.Root, "host", "IAR.Host.csproj"), "-c", RepoPaths.Configuration,
            "-p:IarTorchBackend=external", "-o", publish, "--nologo", "-v", "q", "--disable-build-servers"], null, out _);
        Assert.False(File.Exists(Path.Combine(publish, "libtorch_cpu.so")), "the external backend must not bundle libtorch");
        Assert.True(Directory.Exists(Path.Combine(publish, "plugins", "LlamaGen")), "the publish must carry the plugins");

        // stand-in for a PyTorch install's torch/lib: the libtorch 2.10 natives beside this test assembly
        var libtorch = dir.File("torch-lib");
        Directory.CreateDirectory(libtorch);
        foreach (var lib in Directory.GetFiles(AppContext.BaseDirectory, "lib*.so*").Where(f => Path.GetFileName(f).StartsWith("libtorch") || Path.GetFileName(f).StartsWith("libc10") || Path.GetFileName(f).StartsWith("libgomp")))
            File.CreateSymbolicLink(Path.Combine(libtorch, Path.GetFileName(lib)), lib);
        int code = Run("dotnet", [Path.Combine(publish, "iar.dll"), "doctor"], new() { [ExternalLibTorch.EnvironmentVariable] = libtorch }, out var output);
        Assert.True(code == 0, output);
        Assert.Contains("external libtorch", output);
        Assert.Contains("262144", output);
    }

    static int Run(string exe, string[] args, Dictionary<string, string>? env, out string output)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) p.Kill(entireProcessTree: true);
        output = stdout.Result + stderr.Result;
        if (exe == "dotnet" && args[0] == "publish" && p.ExitCode != 0) throw new InvalidOperationException(output);
        return p.ExitCode;
    }
}
