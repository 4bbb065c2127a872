using TorchSharp;
using static TorchSharp.torch;

namespace IAR.ContractTests;

/// <summary>Seeded inputs shared by the contract tests.</summary>
public static class ContractSeeds
{
    /// <summary>Images in [-1, 1] of the given shape, from a seeded generator.</summary>
    public static Tensor Images(int batch, IAR.Abstractions.ImageShape shape, long seed = 1234)
    {
        using var g = new torch.Generator((ulong)seed);
        return torch.rand([batch, shape.Channels, shape.Height, shape.Width], generator: g) * 2 - 1;
    }

    /// <summary>Uniform token indices in [0, vocab).</summary>
    public static Tensor Tokens(int batch, int length, int vocab, long seed = 99)
    {
        using var g = new torch.Generator((ulong)seed);
        return torch.randint(0, vocab, [batch, length], generator: g, dtype: ScalarType.Int64);
    }

    /// <summary>Labels 0, 1, 2, … modulo the number of classes.</summary>
    public static Tensor Labels(int batch, int numClasses) =>
        torch.arange(batch, dtype: ScalarType.Int64) % numClasses;
}
