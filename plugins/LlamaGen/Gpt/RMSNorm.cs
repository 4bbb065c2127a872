using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>x · rsqrt(mean(x²) + eps) · weight over the last axis (TorchSharp has no RMSNorm module).</summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    readonly double eps;
    readonly Parameter weight;

    public RMSNorm(int dim, double eps, Device? device = null) : base(nameof(RMSNorm))
    {
        this.eps = eps;
        weight = nn.Parameter(torch.ones(dim, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)                                   // [..., D]
    {
        using var scope = torch.NewDisposeScope();
        // mean(x²) from the vector norm: one reduction pass over x instead of a squared copy and a mean, which also
        // leaves autograd fewer full-size tensors to keep and to differentiate.
        var inverseRms = x.norm(-1, keepdim: true).pow(2).div_(x.shape[^1]).add_(eps).rsqrt_();   // [..., 1]
        return (x * inverseRms * weight).MoveToOuterDisposeScope();
    }
}
