using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>Stochastic depth: in training, zeroes a whole residual branch per sample and rescales the survivors.</summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    readonly double probability;

    public DropPath(double probability) : base(nameof(DropPath))
    {
        this.probability = probability;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)                                   // [B, ...]
    {
        if (probability == 0 || !training) return x.alias();
        double keep = 1 - probability;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];
        using var mask = torch.empty(shape, x.dtype, x.device).bernoulli_(keep).div_(keep);
        return x * mask;
    }
}
