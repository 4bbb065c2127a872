using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// Multi-head self-attention of a VAR block (official <c>basic_var.SelfAttention</c>): fused <c>mat_qkv</c> without
/// bias plus a separate bias cat(q_bias, zero_k_bias, v_bias); with attn_l2_norm, q and k are L2-normalised and q is
/// multiplied by exp(min(scale_mul_1H11, ln 100)) with softmax scale 1, otherwise the scale is 0.25/√hd.
/// </summary>
internal sealed class SelfAttention : nn.Module
{
    readonly Linear mat_qkv;
    readonly Parameter q_bias;
    readonly Parameter v_bias;
    readonly Tensor zero_k_bias;              // a buffer: keys have no bias
    readonly Parameter? scale_mul_1H11;       // [1, H, 1, 1], log of the per-head scale
    readonly Linear proj;
    readonly nn.Module<Tensor, Tensor> proj_drop;
    readonly int numHeads;
    readonly int headDim;
    readonly double scale;
    readonly double attentionDropout;
    static readonly double MaxScaleMul = Math.Log(100);

    public SelfAttention(int embedDim, int numHeads, double attnDrop, double projDrop, bool attnL2Norm) : base(nameof(SelfAttention))
    {
        this.numHeads = numHeads;
        headDim = embedDim / numHeads;
        if (attnL2Norm)
        {
            scale = 1;
            scale_mul_1H11 = nn.Parameter(torch.full(1, numHeads, 1, 1, 4.0).log());
        }
        else
        {
            scale = 0.25 / Math.Sqrt(headDim);
        }
        mat_qkv = nn.Linear(embedDim, embedDim * 3, hasBias: false);
        q_bias = nn.Parameter(torch.zeros(embedDim));
        v_bias = nn.Parameter(torch.zeros(embedDim));
        zero_k_bias = torch.zeros(embedDim);
        register_buffer(nameof(zero_k_bias), zero_k_bias);
        proj = nn.Linear(embedDim, embedDim);
        proj_drop = projDrop > 0 ? nn.Dropout(projDrop) : nn.Identity();
        attentionDropout = attnDrop;
        RegisterComponents();
    }

    public Linear Proj => proj;

    /// <param name="x">[B, l, C], the new tokens.</param>
    /// <param name="attnBias">Additive mask [1, 1, l, L_keys] (0 or −∞), or null to attend to every key.</param>
    /// <param name="cache">With a cache, the new keys/values are appended and the queries see all cached ones.</param>
    public Tensor forward(Tensor x, Tensor? attnBias, AttentionCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], l = x.shape[1], c = x.shape[2];
        var bias = torch.cat([q_bias, zero_k_bias, v_bias]);
        var qkv = Autocast.Linear(x, mat_qkv.weight!, bias).view(b, l, 3, numHeads, headDim).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (qkv[0], qkv[1], qkv[2]);                                   // [B, H, l, hd]
        if (scale_mul_1H11 is not null)
        {
            q = nn.functional.normalize(q, dim: -1).mul(scale_mul_1H11.clamp_max(MaxScaleMul).exp());
            k = nn.functional.normalize(k, dim: -1);
        }
        if (cache is not null) (k, v) = cache.Append(k, v);                          // [B, H, L_keys, hd]
        // SDPA divides by √hd itself and has no scale argument, so q carries scale·√hd.
        var scaledQ = q.mul(scale * Math.Sqrt(headDim));
        var attended = Autocast.Attention(scaledQ, k, v, attnBias, training ? attentionDropout : 0, causal: false);
        var output = proj_drop.forward(Autocast.Linear(proj, attended.transpose(1, 2).reshape(b, l, c)));
        return output.MoveToOuterDisposeScope();
    }
}
