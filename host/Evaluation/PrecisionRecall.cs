using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019): each feature set defines a manifold, the union of balls
/// around its points with radius the distance to the point's k-th nearest neighbour in the same set.
/// Precision = share of generated samples inside the real manifold (fidelity); recall = share of real samples inside
/// the generated manifold (coverage).
/// </summary>
public static class PrecisionRecall
{
    /// <summary>Rows per block of the pairwise-distance computation (memory ≈ rows × N × 8 bytes).</summary>
    const int BlockRows = 1024;

    /// <summary>Distances per block at most (64 MiB of float64): at 50,000 points a block is 167 rows, so the [b, N]
    /// distance matrix and cdist's temporaries stay far below the 2 GiB a 1024-row block took.</summary>
    const long BlockElements = 1L << 23;

    static long Rows(long points) => Math.Clamp(BlockElements / Math.Max(points, 1), 1, BlockRows);

    /// <param name="real">[N, D] features of real images.</param>
    /// <param name="generated">[M, D] features of generated images.</param>
    /// <param name="k">Neighbourhood size (3 in the paper and in the ADM evaluator).</param>
    /// <exception cref="ArgumentException">A set has k or fewer points, or dimensions differ.</exception>
    public static (double Precision, double Recall) Compute(Tensor real, Tensor generated, int k)
    {
        if (real.dim() != 2 || generated.dim() != 2 || real.shape[1] != generated.shape[1])
            throw new ArgumentException($"Precision/recall needs features [N, D] and [M, D]; got [{string.Join(", ", real.shape)}] and [{string.Join(", ", generated.shape)}].");
        if (k < 1 || real.shape[0] <= k || generated.shape[0] <= k)
            throw new ArgumentException($"Precision/recall with k = {k} needs more than k samples in each set; got {real.shape[0]} real and {generated.shape[0]} generated.");
        using var scope = torch.NewDisposeScope();
        var r = real.detach().to(ScalarType.Float64);
        var g = generated.detach().to(ScalarType.Float64);
        var realRadii = Radii(r, k);
        var generatedRadii = Radii(g, k);
        double precision = Inside(g, r, realRadii);
        double recall = Inside(r, g, generatedRadii);
        return (precision, recall);
    }

    /// <summary>[N]: distance of each point to its k-th nearest other point of the same set.</summary>
    static Tensor Radii(Tensor points, int k)
    {
        var radii = new List<Tensor>();
        long step = Rows(points.shape[0]);
        for (long start = 0; start < points.shape[0]; start += step)
        {
            using var block = torch.NewDisposeScope();
            var rows = points.narrow(0, start, Math.Min(step, points.shape[0] - start));
            var distances = torch.cdist(rows, points);                        // [b, N]; the point itself is at 0
            radii.Add(distances.kthvalue(k + 1, 1).values.MoveToOuterDisposeScope());
        }
        return torch.cat(radii, 0);
    }

    /// <summary>Share of <paramref name="queries"/> within the radius of at least one point of the manifold.</summary>
    static double Inside(Tensor queries, Tensor manifold, Tensor radii)
    {
        long inside = 0;
        long step = Rows(manifold.shape[0]);
        for (long start = 0; start < queries.shape[0]; start += step)
        {
            using var block = torch.NewDisposeScope();
            var rows = queries.narrow(0, start, Math.Min(step, queries.shape[0] - start));
            var distances = torch.cdist(rows, manifold);                      // [b, N]
            inside += distances.le(radii.unsqueeze(0)).any(1).sum().item<long>();
        }
        return (double)inside / queries.shape[0];
    }
}
