using System.Runtime.InteropServices;
using IAR.Abstractions;

namespace IAR.Host.Native;

/// <summary>
/// Uses a libtorch that is already on the machine (e.g. a PyTorch install's <c>torch/lib</c>, possibly with CUDA)
/// instead of the one bundled by TorchSharp-cpu. Its libraries are loaded by absolute path before TorchSharp
/// initialises, so the bridge libLibTorchSharp.so binds to them by soname. Two libtorch_cpu copies in one process
/// break, so this requires a build without bundled natives (<c>-p:IarTorchBackend=external</c>).
/// </summary>
public static class ExternalLibTorch
{
    /// <summary>Environment variable naming the libtorch folder (the CLI's <c>--libtorch DIR</c> sets the same).</summary>
    public const string EnvironmentVariable = "IAR_LIBTORCH_DIR";

    /// <summary>Load order: each library's dependencies first.</summary>
    static readonly string[] Libraries = ["libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so"];

    static readonly string[] Required = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];

    /// <summary>The folder loaded, once <see cref="Load"/> succeeded.</summary>
    public static string? LoadedFrom { get; private set; }

    /// <summary>
    /// Symbols libLibTorchSharp.so needs that the libtorch in <paramref name="dir"/> does not export (empty when
    /// compatible). TorchSharp 0.107.0 is built against libtorch 2.10; another version usually misses some.
    /// </summary>
    public static IReadOnlyList<string> MissingSymbols(string dir, string bridge)
    {
        var needed = ElfDynamicSymbols.Read(bridge).UndefinedUnversioned;
        var exported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lib in Libraries)
        {
            var path = Path.Combine(dir, lib);
            if (File.Exists(path)) exported.UnionWith(ElfDynamicSymbols.Read(path).Defined);
        }
        return needed.Where(s => !exported.Contains(s)).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Checks and loads the libtorch of <paramref name="dir"/>.</summary>
    /// <exception cref="ConfigurationException">Missing files, a bundled libtorch in the build, or an ABI mismatch.</exception>
    public static void Load(string dir)
    {
        dir = Path.GetFullPath(dir);
        var missingFiles = Required.Where(f => !File.Exists(Path.Combine(dir, f))).ToArray();
        if (missingFiles.Length > 0)
            throw new ConfigurationException($"libtorch folder '{dir}' lacks {string.Join(", ", missingFiles)}; point {EnvironmentVariable} (or --libtorch) at a folder such as <python site-packages>/torch/lib.");
        var appDir = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(appDir, "libtorch_cpu.so")))
            throw new ConfigurationException($"This build bundles libtorch ({appDir}libtorch_cpu.so), so an external one cannot be used too (two libtorch_cpu copies in one process break); publish with -p:IarTorchBackend=external.");
        var bridge = Path.Combine(appDir, "libLibTorchSharp.so");
        if (!File.Exists(bridge)) throw new ConfigurationException($"{bridge} is missing; the host was not built or published completely.");
        var missing = MissingSymbols(dir, bridge);
        if (missing.Count > 0)
            throw new ConfigurationException(
                $"The libtorch in '{dir}' does not match TorchSharp {TorchRuntime.TorchSharpVersion} (built for libtorch 2.10): " +
                $"{missing.Count} symbols libLibTorchSharp.so needs are not exported, e.g. {string.Join(", ", missing.Take(5))}.");
        foreach (var lib in Libraries)
        {
            var path = Path.Combine(dir, lib);
            if (File.Exists(path)) NativeLibrary.Load(path);
        }
        LoadedFrom = dir;
    }
}
