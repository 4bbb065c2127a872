using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;

namespace IAR.Plugins.VAR;

/// <summary>The VQVAE's only normalisation: GroupNorm with 32 groups and eps 1e-6 (official <c>Normalize</c>).</summary>
internal static class VaeNormalization
{
    public const int Groups = 32;

    public static GroupNorm GroupNorm(int channels) => AffineGroupNorm.Create(Groups, channels, 1e-6);
}
