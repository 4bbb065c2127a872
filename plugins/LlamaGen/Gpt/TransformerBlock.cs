using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>Pre-norm block: h = x + attention(norm(x)); out = h + feed_forward(norm(h)), each branch with drop-path.</summary>
public sealed class TransformerBlock : nn.Module
{
    readonly Attention attention;
    readonly FeedForward feed_forward;
    readonly RMSNorm attention_norm;
    readonly RMSNorm ffn_norm;
    readonly DropPath drop_path;

    public TransformerBlock(GptConfig config, double dropPath, Device? device = null) : base(nameof(TransformerBlock))
    {
        attention = new Attention(config, device);
        feed_forward = new FeedForward(config, device);
        attention_norm = new RMSNorm(config.Options.Dim, config.Options.NormEps, device);
        ffn_norm = new RMSNorm(config.Options.Dim, config.Options.NormEps, device);
        drop_path = new DropPath(dropPath);
        RegisterComponents();
    }

    /// <summary>x [B, S, D] at positions start … → [B, S, D].</summary>
    /// <param name="masks">The forward pass's dropout masks, drawn in layer order.</param>
    public Tensor forward(Tensor x, RotaryEmbedding2D rope, int start, KVCache? cache, DropoutMasks masks)
    {
        using var scope = torch.NewDisposeScope();
        // Each norm's output is cast to the compute type once (bf16 inside an Autocast region), not by every matmul it
        // feeds (q/k/v; w1 and w3); the residual stream stays float32.
        var h = x + drop_path.forward(attention.forward(Autocast.Compute(attention_norm.forward(x)), rope, start, cache, masks));
        var output = h + drop_path.forward(feed_forward.forward(Autocast.Compute(ffn_norm.forward(h)), masks));
        return output.MoveToOuterDisposeScope();
    }
}
