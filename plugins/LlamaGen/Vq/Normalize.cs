using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>The official <c>Normalize</c>: GroupNorm with <c>norm_groups</c> groups, eps 1e-6, affine.</summary>
public static class Normalize
{
    public static GroupNorm Group(int channels, VqOptions options, Device? device)
    {
        var norm = nn.GroupNorm(options.NormGroups, channels, VqConfig.NormEps, affine: true, device: device);
        // TorchSharp 0.107's GroupNorm leaves its affine parameters uninitialised (torch.empty: garbage, sometimes
        // NaN); PyTorch's init is weight 1, bias 0.
        using var _ = torch.no_grad();
        norm.weight!.fill_(1);
        norm.bias!.zero_();
        return norm;
    }
}
