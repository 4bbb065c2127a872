using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// A VAR transformer block (official <c>basic_var.AdaLNSelfAttn</c>): LayerNorm without affine parameters, modulated
/// by six class-conditioned vectors unbound in the order gamma1, gamma2, scale1, scale2, shift1, shift2:
/// x += attn(LN(x)·(1 + scale1) + shift1)·gamma1; x += ffn(LN(x)·(1 + scale2) + shift2)·gamma2.
/// Unshared: the six come from this block's <c>ada_lin</c> = Sequential(SiLU, Linear(D, 6C)) (keys <c>ada_lin.1</c>).
/// Shared: they are <c>ada_gss</c> [1, 1, 6, C] plus the model's shared projection, passed in already projected.
/// </summary>
internal sealed class AdaLNSelfAttn : nn.Module
{
    readonly SelfAttention attn;
    readonly FeedForward ffn;
    readonly LayerNorm ln_wo_grad;
    readonly Sequential? ada_lin;
    readonly Parameter? ada_gss;
    readonly DropPath drop_path;
    readonly int embedDim;

    public AdaLNSelfAttn(VarOptions o, double dropPath) : base(nameof(AdaLNSelfAttn))
    {
        embedDim = o.EmbedDim;
        attn = new SelfAttention(o.EmbedDim, o.NumHeads, o.AttnDropRate, o.DropRate, o.AttnL2Norm);
        ffn = new FeedForward(o.EmbedDim, (int)Math.Round(o.EmbedDim * o.MlpRatio, MidpointRounding.ToEven), o.DropRate);
        ln_wo_grad = nn.LayerNorm(o.EmbedDim, o.NormEps, elementwise_affine: false);
        if (o.SharedAln) ada_gss = nn.Parameter(torch.randn(1, 1, 6, o.EmbedDim) / Math.Sqrt(o.EmbedDim));
        else ada_lin = nn.Sequential(("0", nn.SiLU()), ("1", nn.Linear(o.EmbedDim, 6 * o.EmbedDim)));
        drop_path = new DropPath(dropPath);
        RegisterComponents();
    }

    public SelfAttention Attention => attn;

    public FeedForward Ffn => ffn;

    /// <summary>The block's own AdaLN projection (unshared blocks), for initialisation.</summary>
    public Linear? AdaLinear => ada_lin is null ? null : (Linear)ada_lin[1];

    public Parameter? AdaGss => ada_gss;

    /// <param name="x">[B, l, C].</param>
    /// <param name="condition">Unshared: the class embedding [B, D]. Shared: the shared projection [B, 1, 6, C].</param>
    /// <param name="attnBias">[1, 1, l, L_keys] additive mask, or null.</param>
    /// <param name="cache">Keys/values of earlier scales (generation), or null.</param>
    public Tensor forward(Tensor x, Tensor condition, Tensor? attnBias, AttentionCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        var modulation = ada_gss is not null
            ? ada_gss + condition                                                 // [B, 1, 6, C]
            : ada_lin!.forward(condition).view(-1, 1, 6, embedDim);
        var m = modulation.unbind(2);   // gamma1, gamma2, scale1, scale2, shift1, shift2: [B, 1, C] each
        var attended = attn.forward(ln_wo_grad.forward(x).mul(m[2] + 1).add(m[4]), attnBias, cache);
        x = x + drop_path.forward(attended.mul(m[0]));
        var fed = ffn.forward(ln_wo_grad.forward(x).mul(m[3] + 1).add(m[5]));
        x = x + drop_path.forward(fed.mul(m[1]));
        return x.MoveToOuterDisposeScope();
    }
}
