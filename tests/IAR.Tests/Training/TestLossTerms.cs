using IAR.Abstractions;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>A small term that draws from the global torch generator, as dropout does, so tests see whether its state is restored.</summary>
internal sealed class GlobalNoiseTerm : ILossTerm
{
    public string Name => "noise";

    /// <summary>The term at weight 0.01, as the trainer tests add it to the token CE.</summary>
    public static WeightedTerm Small => new(new GlobalNoiseTerm(), 0.01);

    public Tensor Compute(Tensor logits, Tensor targets) => (logits.mean() * torch.rand(1)).sum();
}

/// <summary>Returns <see cref="Value"/> (NaN or infinity) on its <see cref="At"/>-th call, zero before: a run that diverges.</summary>
internal sealed class DivergingTerm(int at, double value) : ILossTerm
{
    int calls;

    public int At { get; } = at;

    public double Value { get; } = value;

    public string Name => "diverging";

    public Tensor Compute(Tensor logits, Tensor targets) => ++calls == At ? (logits.sum().abs() + 1) * Value : logits.sum() * 0;
}
