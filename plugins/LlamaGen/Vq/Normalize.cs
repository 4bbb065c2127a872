using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>The official <c>Normalize</c>: GroupNorm with <c>norm_groups</c> groups, eps 1e-6, affine.</summary>
public static class Normalize
{
    public static GroupNorm Group(int channels, VqOptions options, Device? device) =>
        AffineGroupNorm.Create(options.NormGroups, channels, VqConfig.NormEps, device);
}
