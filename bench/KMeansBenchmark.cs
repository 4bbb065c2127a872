using System.Diagnostics;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// Codebook rearrangement speed and quality: balanced k-means (the exact min-cost assignment vs the official greedy one, k-means++ vs
/// random initial centres), the inner ordering and the whole <see cref="CodebookRearrangement.Plan"/>, on the
/// reference fixture's codebook recipe (4096×8 into 32) and scaled up to LlamaGen VQ-16's size (16384×8 into 128).
/// The official implementation needs 2.67 s (38 iterations) on the first and about 80 s for 100 iterations on the second.
/// </summary>
public sealed class KMeansBenchmark : IBenchmark
{
    public string Name => "kmeans";

    public string Description => "balanced k-means + inner ordering: wall time and within-cluster error (4096x8/32 and 16384x8/128).";

    public void Run(BenchReport report)
    {
        foreach (var (codes, mixture, clusters) in new[] { (4096, 64, 32), (16384, 256, 128) })
        {
            using var codebook = SyntheticCodebook(codes, mixture);
            var shape = $"{codes}x8/{clusters}";
            foreach (var assignment in Enum.GetValues<BalancedAssignment>())
            foreach (var init in Enum.GetValues<KMeansInitialisation>())
            {
                var kmeans = new BalancedKMeans { Clusters = clusters, Assignment = assignment, Initialisation = init };
                ClusteringResult? last = null;
                var seconds = BenchReport.Time(() => last = kmeans.Fit(codebook), repeats: assignment == BalancedAssignment.Greedy ? 3 : 5);
                var context = new Dictionary<string, object>
                {
                    ["codebook"] = shape, ["assignment"] = assignment.ToString(), ["init"] = init.ToString(),
                    ["error"] = last!.Error, ["iterations"] = last.Iterations, ["converged"] = last.Converged,
                };
                string label = $"{shape} {assignment.ToString().ToLowerInvariant()} {init.ToString().ToLowerInvariant()}";
                report.Add($"{label} time", seconds, "s", context);
                report.Add($"{label} error", last.Error, "error", context);
                report.Add($"{label} iterations", last.Iterations, "iter", context);
            }

            // The whole plan as the run and `iar rearrange` call it: clustering, inner ordering, both quality measures.
            var spec = new IarSpec { Enabled = true, ClusterSize = codes / clusters };
            RearrangementPlan? plan = null;
            var planSeconds = BenchReport.Time(() => plan = CodebookRearrangement.Plan(spec, codebook, 0), repeats: 5);
            var stats = plan!.Stats;
            var planContext = new Dictionary<string, object>
            {
                ["codebook"] = shape, ["error_before"] = stats.ErrorBefore, ["error_after"] = stats.ErrorAfter,
                ["adjacent_before"] = stats.AdjacentBefore, ["adjacent_after"] = stats.AdjacentAfter, ["iterations"] = stats.Iterations,
            };
            report.Add($"{shape} plan (default) time", planSeconds, "s", planContext);
            report.Add($"{shape} plan error after", stats.ErrorAfter, "error", planContext);
            report.Add($"{shape} plan adjacent before", stats.AdjacentBefore, "sqdist", planContext);
            report.Add($"{shape} plan adjacent after", stats.AdjacentAfter, "sqdist", planContext);

            var vectors = CodebookVectors.From(codebook, normalize: true);
            var gathered = CodebookRearrangement.GatherByCluster(
                ClusteringQuality.BlockAssignment(plan.Permutation.NewToOld, plan.Layout), plan.Layout.Count);
            var orderSeconds = BenchReport.Time(() => InnerClusterOrder.Apply(vectors, gathered, plan.Layout), repeats: 5);
            report.Add($"{shape} inner ordering time", orderSeconds, "s", new Dictionary<string, object> { ["codebook"] = shape });
        }
    }

    /// <summary>
    /// The reference fixture's recipe, scaled: <c>manual_seed(0); centers = randn(k, 8); comp = randint(0, k, (V,));
    /// codebook = normalize(centers[comp] + 0.3·randn(V, 8))</c> (k = 64 and V = 4096 reproduce the fixture's codebook).
    /// </summary>
    public static Tensor SyntheticCodebook(int codes, int mixture)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var centers = torch.randn(mixture, 8);
        var component = torch.randint(0, mixture, [codes], ScalarType.Int64);
        var noise = torch.randn(codes, 8);
        return nn.functional.normalize(centers.index_select(0, component) + 0.3 * noise, 2, 1).MoveToOuterDisposeScope();
    }
}
