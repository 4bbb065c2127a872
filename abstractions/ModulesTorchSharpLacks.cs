using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Abstractions;

// What TorchSharp 0.107 lacks or gets wrong compared with PyTorch, written once for every plugin (plugins compile
// against this assembly only, and the host shares it with them). Each draws from the global generator, like PyTorch,
// so the host's torch.manual_seed before a factory's Create makes weights reproducible.

/// <summary>
/// Stochastic depth (timm's DropPath; TorchSharp has none): in training, zeroes a sample's residual branch with
/// probability p and rescales the others by 1/(1 − p).
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    readonly double probability;

    public DropPath(double probability) : base(nameof(DropPath)) => this.probability = probability;

    public override Tensor forward(Tensor x)                                   // [B, ...]
    {
        if (probability == 0 || !training) return x.alias();
        double keep = 1 - probability;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];                                                  // [B, 1, …, 1]
        using var mask = torch.empty(shape, dtype: x.dtype, device: x.device).bernoulli_(keep).div_(keep);
        return x.mul(mask);
    }
}

/// <summary>
/// PyTorch's <c>nn.init.trunc_normal_</c> (inverse-CDF method, absolute bounds [a, b]). TorchSharp 0.107's
/// <c>nn.init.trunc_normal_</c> fills the whole tensor with a single value.
/// </summary>
public static class TruncatedNormal
{
    public static void Fill(Tensor tensor, double std, double mean = 0, double a = -2, double b = 2)
    {
        double low = NormalCdf((a - mean) / std), high = NormalCdf((b - mean) / std);
        using var _ = torch.no_grad();
        tensor.uniform_(2 * low - 1, 2 * high - 1).erfinv_().mul_(std * Math.Sqrt(2)).add_(mean).clamp_(a, b);
    }

    static double NormalCdf(double x)
    {
        using var t = torch.tensor(x / Math.Sqrt(2), dtype: ScalarType.Float64, device: torch.CPU);
        using var erf = t.erf();
        return (1 + erf.item<double>()) / 2;
    }
}

/// <summary>
/// GroupNorm with PyTorch's initial affine parameters (weight 1, bias 0). TorchSharp 0.107's GroupNorm leaves them
/// uninitialised (whatever the allocator returned, NaN included).
/// </summary>
public static class AffineGroupNorm
{
    public static GroupNorm Create(int groups, int channels, double eps, Device? device = null)
    {
        var norm = nn.GroupNorm(groups, channels, eps, affine: true, device: device);
        using var _ = torch.no_grad();
        norm.weight!.fill_(1);
        norm.bias!.zero_();
        return norm;
    }
}
