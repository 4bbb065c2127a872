using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>The bottleneck of the encoder and decoder (<c>mid</c>): residual block, attention, residual block.</summary>
internal sealed class VaeMiddle : nn.Module<Tensor, Tensor>
{
    readonly ResnetBlock block_1;
    readonly nn.Module<Tensor, Tensor> attn_1;
    readonly ResnetBlock block_2;

    public VaeMiddle(int channels, double dropout, bool usingAttention) : base(nameof(VaeMiddle))
    {
        block_1 = new ResnetBlock(channels, channels, dropout);
        attn_1 = usingAttention ? new AttnBlock(channels) : nn.Identity();
        block_2 = new ResnetBlock(channels, channels, dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        return block_2.forward(attn_1.forward(block_1.forward(x))).MoveToOuterDisposeScope();
    }
}
