using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>Stochastic depth (timm's DropPath): in training, zeroes a sample's residual branch with probability p and
/// rescales the rest by 1/(1 − p); draws from the global generator (seeded with torch.manual_seed).</summary>
internal sealed class DropPath : nn.Module<Tensor, Tensor>
{
    readonly double probability;

    public DropPath(double probability) : base(nameof(DropPath)) => this.probability = probability;

    public override Tensor forward(Tensor x)   // [B, ...]
    {
        if (probability == 0 || !training) return x.alias();
        double keep = 1 - probability;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];
        using var mask = torch.empty(shape, dtype: x.dtype, device: x.device).bernoulli_(keep).div_(keep);
        return x.mul(mask);
    }
}
