using IAR.Host.Native;
using TorchSharp;

namespace IAR.Tests.Foundation;

public class TorchSharpRuntimeTests
{
    [Fact]
    public void A_tensor_op_runs_on_the_bundled_libtorch()
    {
        using var a = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var b = a.matmul(a.t());   // [[0,1,2],[3,4,5]] @ its transpose
        Assert.Equal(new[] { 5f, 14f, 14f, 50f }, b.data<float>().ToArray());
        Assert.StartsWith("2.10", TorchRuntime.LibTorchVersion);
    }

    [Fact]
    public void Libtorch_loaded_from_the_build_output_without_the_fallback_copy()
    {
        _ = torch.ones(1);   // forces native initialisation
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so")));
        // TorchSharp copies ~480 MB of natives into cpu/ when its first load attempt fails.
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "cpu")),
            "TorchSharp fell back to copying natives into cpu/: libLibTorchSharp.so did not load from the build output");
    }
}
