using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Abstractions;

/// <summary>The arithmetic a generator's forward pass runs in (<c>training.precision</c>).</summary>
public enum Precision
{
    /// <summary>Everything in float32, as the module's parameters are.</summary>
    Fp32,

    /// <summary>
    /// Matmuls, attention and the activations between them in bfloat16; parameters (master weights), optimizer state,
    /// embeddings, norms, the residual stream, softmax and losses stay float32.
    /// </summary>
    Bf16,
}

/// <summary>
/// Mixed precision for plugins, in the manner of PyTorch's autocast, which TorchSharp 0.107 lacks. The host enters a
/// region around a generator's forward or sampling (<see cref="Enter"/>); inside it a plugin's matmuls and attention
/// go through <see cref="Linear(Linear, Tensor)"/> and <see cref="Attention"/>, which cast their inputs and the
/// float32 weights to the compute type, so the output (and its gradient) is bfloat16 while the weights' gradients
/// arrive in float32 through the cast's backward. Everything else follows PyTorch's type promotion: a bf16
/// activation times a float32 weight (RMSNorm, AdaLN) or plus the float32 residual stream is float32 again, so
/// norms and the residual stream stay float32 without a cast. Where a plugin needs float32 for an operation that
/// has no bf16 kernel or must not lose bits (complex RoPE, softmax of sampling), it calls <see cref="Float"/>.
/// Outside a region (fp32) every call is exactly the plain TorchSharp call, so fp32 results are unchanged to the bit.
/// The region is per thread, like PyTorch's; within it, weights cast without gradient tracking (sampling) are
/// cast once and reused, as PyTorch's autocast cache does.
/// </summary>
public static class Autocast
{
    [ThreadStatic] static Region? current;

    /// <summary>The compute type inside a bf16 region, or null (fp32: nothing is cast).</summary>
    public static ScalarType? ComputeType => current?.Type;

    /// <summary>Enters a region of <paramref name="precision"/> until the result is disposed; fp32 leaves any outer region off.</summary>
    public static IDisposable Enter(Precision precision) =>
        new Region(precision == Precision.Bf16 ? ScalarType.BFloat16 : null);

    /// <summary><c>linear.forward(x)</c>, in the compute type inside a region: x [..., in] → [..., out].</summary>
    public static Tensor Linear(Linear linear, Tensor x) =>
        current?.Type is { } type ? F.linear(x.to(type), current.Cast(linear.weight!), linear.bias is null ? null : current.Cast(linear.bias)) : linear.forward(x);

    /// <summary><c>F.linear(x, weight, bias)</c>, in the compute type inside a region.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) =>
        current?.Type is { } type ? F.linear(x.to(type), current.Cast(weight), bias is null ? null : current.Cast(bias)) : F.linear(x, weight, bias);

    /// <summary>
    /// <c>F.linear(x, weight, bias)</c> for a weight whose bf16 rounding training amplifies: attention's q/k/v and
    /// output projections. Inside a region, while gradients are on, the weight enters the forward pass as two bf16
    /// terms, high = bf16(W) and low = bf16(W − high), so the product is accurate to W's float32 value within ≈ 2⁻¹⁶
    /// relative while x is rounded once and both GEMMs run on the bf16 units; the bias is added in float32. The
    /// backward is the plain bf16 linear's: the gradients of x and W flow through the high term only (the low term
    /// is a constant of the graph). Output float32, x [..., in] → [..., out]. Why: rounding these two weights moves
    /// every attention logit, which the loss plateau's exit amplifies into a trajectory 2–6 % from fp32's at 300 steps
    /// (PyTorch's autocast does the same, and an unbiased stochastic rounding as much); with the weights at float32
    /// accuracy bf16 tracks fp32 within 2 % (bench/README, bf16 tracking). Without gradients (evaluation,
    /// sampling) the rounding acts once, as an activation's does, and this is <see cref="Linear(Tensor, Tensor, Tensor?)"/>.
    /// </summary>
    public static Tensor SplitWeightLinear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (current?.Type is not { } type || !torch.is_grad_enabled()) return Linear(x, weight, bias);
        using var scope = torch.NewDisposeScope();
        var input = x.to(type);                                                  // [..., in], rounded once
        var high = weight.to(type);                                              // [out, in], in the graph
        Tensor lowProduct;
        using (torch.no_grad())
            lowProduct = F.linear(input, weight.sub(high).to(type), null);       // [..., out], W − high in bf16
        var output = F.linear(input, high, null).to(ScalarType.Float32).add_(lowProduct);   // [..., out]
        return (bias is null ? output : output.add_(bias)).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="SplitWeightLinear(Tensor, Tensor, Tensor?)"/> of a linear layer's weight and bias.</summary>
    public static Tensor SplitWeightLinear(Linear linear, Tensor x) => SplitWeightLinear(x, linear.weight!, linear.bias);

    /// <summary>x in the compute type inside a region, else x itself: one cast of an input that feeds several matmuls.</summary>
    public static Tensor Compute(Tensor x) => current?.Type is { } type && x.dtype != type ? x.to(type) : x;

    /// <summary>
    /// The type <see cref="Attention"/> computes in on <paramref name="device"/> inside a region, or null (fp32: no
    /// region). On the CPU that is float32 even inside a bf16 region: libtorch's CPU bf16 attention kernels, forward
    /// and backward, were slower than its float32 ones at this project's shapes (GPT-S, 64 tokens, head dim 32: 4× at
    /// dim 128, 1.3× at dim 256; bench <c>precision-profile</c>), and attention is a small share of the FLOPs there.
    /// On an accelerator it is the compute type. KV caches are kept in this type, so sampling casts no cache per step.
    /// </summary>
    public static ScalarType? AttentionType(Device device) =>
        current?.Type is not { } type ? null : device.type == DeviceType.CPU ? ScalarType.Float32 : type;

    /// <summary>
    /// <c>F.scaled_dot_product_attention</c> inside a region in <see cref="AttentionType"/> (q, k, v and a float
    /// additive mask cast to it), its output in the compute type: q [B, H, Lq, hd], k and v [B, H, Lk, hd] →
    /// [B, H, Lq, hd]. libtorch's bf16 kernels accumulate the softmax in float32.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropout, bool causal)
    {
        if (current?.Type is not { } type || AttentionType(q.device) is not { } attentionType)
            return F.scaled_dot_product_attention(q, k, v, mask, dropout, causal);
        var castMask = mask is not null && mask.is_floating_point() && mask.dtype != attentionType ? mask.to(attentionType) : mask;
        var output = F.scaled_dot_product_attention(At(q, attentionType), At(k, attentionType), At(v, attentionType), castMask, dropout, causal);
        return output.dtype == type ? output : output.to(type);
    }

    static Tensor At(Tensor x, ScalarType type) => x.dtype == type ? x : x.to(type);

    /// <summary>x in float32: x itself when it already is, else a float32 copy (softmax, losses, complex arithmetic).</summary>
    public static Tensor Float(Tensor x) => x.dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);

    sealed class Region : IDisposable
    {
        readonly Region? outer;
        readonly Dictionary<Tensor, Tensor> noGradCasts = new(ReferenceEqualityComparer.Instance);
        bool disposed;

        public Region(ScalarType? type)
        {
            Type = type;
            outer = current;
            current = this;
        }

        public ScalarType? Type { get; }

        /// <summary>A weight in the compute type: part of the autograd graph when gradients are on, else cached.</summary>
        public Tensor Cast(Tensor weight)
        {
            if (weight.dtype == Type) return weight;
            if (torch.is_grad_enabled()) return weight.to(Type!.Value);
            if (!noGradCasts.TryGetValue(weight, out var cast))
                noGradCasts[weight] = cast = weight.to(Type!.Value).DetachFromDisposeScope();
            return cast;
        }

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            foreach (var cast in noGradCasts.Values) cast.Dispose();
            current = outer;
        }
    }
}
