using TorchSharp;
using TorchSharp.Modules;

namespace IAR.Plugins.VAR;

/// <summary>The VQVAE's only normalisation: GroupNorm with 32 groups and eps 1e-6 (official <c>Normalize</c>).</summary>
internal static class VaeNormalization
{
    public const int Groups = 32;

    /// <summary>
    /// GroupNorm with PyTorch's initial affine parameters (weight 1, bias 0). TorchSharp 0.107's GroupNorm leaves
    /// them uninitialised (whatever the allocator returned, NaN included), so they are set here.
    /// </summary>
    public static GroupNorm GroupNorm(int channels)
    {
        var norm = torch.nn.GroupNorm(Groups, channels, eps: 1e-6);
        using var _ = torch.no_grad();
        norm.weight!.fill_(1);
        norm.bias!.zero_();
        return norm;
    }
}
