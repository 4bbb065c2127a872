using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// Inverted dropout (survivors scaled by 1/(1−p)) for the GPT's token, residual and FFN dropout. On the CPU the mask
/// is drawn as uniform samples ≥ p: libtorch's <c>F.dropout</c> draws it with <c>bernoulli_</c>, which costs about three
/// times as much per element, and then scales it in a separate pass (bench <c>dropout</c> measures both). Same
/// seed, same mask: the samples come from the global generator, serially. On CUDA libtorch's fused kernel is faster.
/// </summary>
public static class Dropout
{
    /// <summary>x [...] → x with each element zeroed with probability <paramref name="p"/>, the rest scaled by 1/(1−p).</summary>
    public static Tensor Apply(Tensor x, double p)
    {
        if (x.device_type != DeviceType.CPU) return F.dropout(x, p);
        using var scope = torch.NewDisposeScope();
        // fp32 samples whatever x's dtype: a bf16 uniform has 8 bits and would bend p
        var keep = torch.rand(x.shape, ScalarType.Float32).ge_(p).div_(1 - p);   // [...]: 0 or 1/(1−p)
        return x.mul(keep.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
