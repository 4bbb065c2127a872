using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The class-conditioned LayerNorm before the head (official <c>basic_var.AdaLNBeforeHead</c>):
/// LN(x)·(1 + scale) + shift with (scale, shift) = ada_lin(cond) unbound in that order; keys <c>ada_lin.1</c>.
/// </summary>
internal sealed class AdaLNBeforeHead : nn.Module<Tensor, Tensor, Tensor>
{
    readonly LayerNorm ln_wo_grad;
    readonly Sequential ada_lin;
    readonly int embedDim;

    public AdaLNBeforeHead(int embedDim, int condDim, double normEps) : base(nameof(AdaLNBeforeHead))
    {
        this.embedDim = embedDim;
        ln_wo_grad = nn.LayerNorm(embedDim, normEps, elementwise_affine: false);
        ada_lin = nn.Sequential(("0", nn.SiLU()), ("1", nn.Linear(condDim, 2 * embedDim)));
        RegisterComponents();
    }

    public Linear AdaLinear => (Linear)ada_lin[1];

    public override Tensor forward(Tensor x, Tensor condition)   // [B, l, C], [B, D] → [B, l, C]
    {
        using var scope = torch.NewDisposeScope();
        var m = ada_lin.forward(condition).view(-1, 1, 2, embedDim).unbind(2);   // scale, shift: [B, 1, C]
        return ln_wo_grad.forward(x).mul(m[0] + 1).add(m[1]).MoveToOuterDisposeScope();
    }
}
