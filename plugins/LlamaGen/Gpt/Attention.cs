using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// Causal multi-head attention with a fused q/k/v projection (rows q, then k, then v), 2-D RoPE on q and k,
/// optional grouped key/value heads and an optional KV cache. No biases.
/// </summary>
public sealed class Attention : nn.Module
{
    readonly Linear wqkv;
    readonly Linear wo;
    readonly int dim;
    readonly int heads;
    readonly int kvHeads;
    readonly int headDim;
    readonly double attentionDropout;
    readonly double residualDropout;

    public Attention(GptConfig config, Device? device = null) : base(nameof(Attention))
    {
        dim = config.Options.Dim;
        heads = config.Options.NHead;
        kvHeads = config.KvHeads;
        headDim = config.HeadDim;
        attentionDropout = config.Options.AttnDropoutP;
        residualDropout = config.Options.ResidDropoutP;
        wqkv = nn.Linear(dim, (heads + 2 * kvHeads) * headDim, hasBias: false, device: device);
        wo = nn.Linear(dim, dim, hasBias: false, device: device);
        RegisterComponents();
    }

    /// <summary>x [B, S, D] at positions start … start+S−1 → [B, S, D].</summary>
    /// <param name="cache">Keys/values of earlier positions; null attends within x only (teacher forcing).</param>
    /// <param name="masks">The forward pass's dropout masks (residual dropout).</param>
    public Tensor forward(Tensor x, RotaryEmbedding2D rope, int start, KVCache? cache, DropoutMasks masks)
    {
        using var scope = torch.NewDisposeScope();
        long batch = x.shape[0], length = x.shape[1];
        int kvSize = kvHeads * headDim;
        var qkv = Autocast.SplitWeightLinear(wqkv, x);                                         // [B, S, (H + 2·Hkv)·hd]
        // RoPE rotates in float32 (complex arithmetic); its output goes to attention as it is, which casts it to its
        // own type once (float32 on the CPU: no round trip through bf16).
        var q = rope.Apply(Autocast.Float(qkv.narrow(-1, 0, dim)).view(batch, length, heads, headDim), start);  // [B, S, H, hd]
        var k = rope.Apply(Autocast.Float(qkv.narrow(-1, dim, kvSize)).view(batch, length, kvHeads, headDim), start);
        var v = qkv.narrow(-1, dim + kvSize, kvSize).view(batch, length, kvHeads, headDim);
        q = q.transpose(1, 2);                                                                 // [B, H, S, hd]
        k = k.transpose(1, 2);                                                                 // [B, Hkv, S, hd]
        v = v.transpose(1, 2);
        if (cache is not null) (k, v) = cache.Append(start, k, v);                             // [B, Hkv, start+S, hd]
        if (kvHeads != heads)
        {
            k = k.repeat_interleave(heads / kvHeads, dim: 1);
            v = v.repeat_interleave(heads / kvHeads, dim: 1);
        }

        // Queries see every cached position and, within x, the causal triangle. With no earlier positions that is
        // SDPA's own causal mask; a single query needs none; several new queries after a prefix need an offset one.
        bool causal = start == 0 && length > 1;
        Tensor? mask = start > 0 && length > 1
            ? torch.ones(length, start + length, ScalarType.Bool, x.device).tril(start)
            : null;
        var y = Autocast.Attention(q, k, v, mask, training ? attentionDropout : 0, causal);  // [B, H, S, hd]
        y = y.transpose(1, 2).reshape(batch, length, dim);                                    // [B, S, D]
        var output = Autocast.SplitWeightLinear(wo, y);
        return (training && residualDropout > 0 ? masks.Apply(output, residualDropout) : output).MoveToOuterDisposeScope();
    }
}
