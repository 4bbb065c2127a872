using System.Runtime.CompilerServices;
using IAR.Host.Native;

namespace IAR.Tests.Support;

/// <summary>
/// Tests run with the defaults a user gets: MKL's vendor path is decided before libtorch loads, and glibc's malloc
/// thresholds are set before libtorch allocates, which the host assembly's own initializers cannot guarantee here (a
/// test may call TorchSharp before it touches any host type).
/// With IAR_LIBTORCH_DIR set (the GPU kit, bench/gpu, runs the parity tests from a build without bundled libtorch)
/// that libtorch is loaded first, as the host's CLI does.
/// </summary>
internal static class MklVendorPathSetup
{
#pragma warning disable CA2255 // the test assembly is the application here
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(ExternalLibTorch.EnvironmentVariable) is { Length: > 0 } libtorch && ExternalLibTorch.LoadedFrom is null)
            ExternalLibTorch.Load(libtorch);
        MklVendorPath.Apply();
        GlibcMalloc.Apply();
    }
}
