using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// PyTorch's <c>nn.init.trunc_normal_</c> (inverse-CDF method, absolute bounds [a, b]). TorchSharp 0.107's
/// <c>nn.init.trunc_normal_</c> fills the whole tensor with a single value, so the official initialisations use this.
/// Draws from the global generator, like the PyTorch function.
/// </summary>
internal static class TruncatedNormal
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
