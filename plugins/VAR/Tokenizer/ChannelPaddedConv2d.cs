using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// A stride-1 Conv2d (keys <c>weight</c>, <c>bias</c>, initialised like nn.Conv2d) whose gradient with respect to its
/// input is correct on every CPU. The oneDNN 3.7.1 bundled with libtorch 2.10 computes that gradient wrongly (garbage,
/// often NaN) for k×k convolutions (k &gt; 1) whose output-channel count is not a multiple of 16, on AVX2/AVX-512
/// machines with batch &gt; 1 — e.g. the VQVAE's last decoder conv to 1 or 3 image channels, or z_channels = 8.
/// Forward values and weight gradients are right. When that gradient is needed this module computes the convolution
/// with zero output channels appended up to a multiple of 16 and drops them, which takes oneDNN's correct path.
/// </summary>
internal class ChannelPaddedConv2d : nn.Module<Tensor, Tensor>
{
    const int Block = 16;

    readonly Parameter weight;   // [Cout, Cin, k, k]
    readonly Parameter bias;     // [Cout]
    readonly long padding;

    public ChannelPaddedConv2d(int inChannels, int outChannels, int kernelSize, string name = nameof(ChannelPaddedConv2d)) : base(name)
    {
        padding = kernelSize / 2;
        // nn.Conv2d's own initialisation, taken from a conv of the same shape.
        using var conv = nn.Conv2d(inChannels, outChannels, kernelSize, padding: padding);
        weight = nn.Parameter(conv.weight!.detach().clone());
        bias = nn.Parameter(conv.bias!.detach().clone());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)   // [B, Cin, H, W] → [B, Cout, H, W]
    {
        long outChannels = weight.shape[0];
        bool affected = outChannels % Block != 0 && weight.shape[2] > 1 && x.device_type == DeviceType.CPU
                        && x.requires_grad && torch.is_grad_enabled();
        if (!affected) return nn.functional.conv2d(x, weight, bias, padding: [padding, padding]);

        using var scope = torch.NewDisposeScope();
        long extra = Block - outChannels % Block;
        var paddedWeight = torch.cat([weight, weight.new_zeros(extra, weight.shape[1], weight.shape[2], weight.shape[3])]);
        var paddedBias = torch.cat([bias, bias.new_zeros(extra)]);
        var output = nn.functional.conv2d(x, paddedWeight, paddedBias, padding: [padding, padding]);
        return output[.., ..(int)outChannels].MoveToOuterDisposeScope();
    }
}
