using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>Seeded codebooks for the IAR tests (never the global RNG).</summary>
internal static class IarTestData
{
    /// <summary>
    /// float [V, D]: <paramref name="modes"/> Gaussian blobs (like a trained codebook's clumps), from a local generator.
    /// </summary>
    public static Tensor Codebook(int count, int dim, int modes, ulong seed, double spread = 0.3)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(seed);
        var centres = torch.randn([modes, dim], generator: g);
        var mode = torch.randint(0, modes, [count], generator: g, dtype: ScalarType.Int64);
        var noise = torch.randn([count, dim], generator: g);
        return (centres.index_select(0, mode) + spread * noise).MoveToOuterDisposeScope();
    }

    /// <summary>The divisors of <paramref name="value"/>.</summary>
    public static int[] Divisors(int value) => Enumerable.Range(1, value).Where(d => value % d == 0).ToArray();
}
