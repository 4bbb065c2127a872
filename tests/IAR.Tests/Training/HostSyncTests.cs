using IAR.Host.Training;
using IAR.Tests.LlamaGen;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// Host reads of the optimizer on the accelerator path, found with the meta device: a meta tensor has no data, so
/// every device-to-host read (<c>.item()</c>, <c>ToSingle()</c>, <c>data&lt;T&gt;()</c>, <c>.cpu()</c>, and
/// <c>torch.equal</c>, which TorchSharp's <c>Tensor.Equals</c> calls) throws where it happens. (libtorch's C++ build
/// lacks meta kernels for embedding, attention and even <c>abs</c>, so a whole GPT step cannot run on meta; the
/// forward reads only CPU tensors by construction, see GptGenerator.Forward.)
/// </summary>
public class HostSyncTests
{
    [Fact]
    public void Adamw_over_a_gpt_on_an_accelerator_reads_no_value_to_build_or_to_step()
    {
        var gpt = LlamaGenTestModels.Generator();
        gpt.Module.to(torch.device(DeviceType.META));
        var parameters = gpt.Module.named_parameters().ToArray();
        // Building it once looked parameters up in a Tensor-keyed dictionary: one torch.equal per parameter.
        using var optimizer = new AdamW(parameters.Select(p => (p.name, p.parameter)), 0.9, 0.95, 0.05);
        foreach (var (_, p) in parameters) p.grad = torch.ones_like(p);
        for (int step = 0; step < 3; step++) optimizer.Step(1e-3);
        Assert.Equal(3, optimizer.StepCount);
    }
}
