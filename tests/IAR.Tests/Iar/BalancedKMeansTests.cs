using IAR.ContractTests;
using IAR.Abstractions;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

public class BalancedKMeansTests
{
    [Fact]
    public void Every_cluster_has_exactly_m_codes_for_random_sizes()
    {
        var random = new Random(20250101);
        for (int trial = 0; trial < 40; trial++)
        {
            int count = random.Next(2, 300);
            var divisors = IarTestData.Divisors(count);
            int clusters = divisors[random.Next(divisors.Length)];
            int dim = random.Next(1, 9);
            var assignment = (BalancedAssignment)(trial % 2);
            var init = (KMeansInitialisation)(trial / 2 % 2);
            // Blobs, and in some trials many duplicate codes (ties everywhere).
            using var codebook = trial % 5 == 0
                ? IarTestData.Codebook(count, dim, modes: 3, seed: (ulong)trial, spread: 0).clone()
                : IarTestData.Codebook(count, dim, modes: random.Next(1, 12), seed: (ulong)trial);
            var result = new BalancedKMeans { Clusters = clusters, Seed = (ulong)trial, Assignment = assignment, Initialisation = init }
                .Fit(codebook, normalize: trial % 3 != 0);
            var what = $"trial {trial}: V={count}, n={clusters}, D={dim}, {assignment}, {init}";
            Assert.Equal(count, result.Assignment.Count);
            Assert.All(result.Sizes(), size => Assert.Equal(count / clusters, size));
            Assert.True(result.Assignment.All(a => a >= 0 && a < clusters), what);
            Assert.True(double.IsFinite(result.Error) && result.Error >= 0, what);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_assignment()
    {
        using var codebook = IarTestData.Codebook(512, 8, modes: 16, seed: 3);
        foreach (var assignment in Enum.GetValues<BalancedAssignment>())
        {
            var kmeans = new BalancedKMeans { Clusters = 16, Seed = 7, Assignment = assignment };
            Assert.Equal(kmeans.Fit(codebook).Assignment, kmeans.Fit(codebook).Assignment);
        }
    }

    [Fact]
    public void The_exact_assignment_finds_the_minimum_cost_balanced_assignment()
    {
        // Brute force over every balanced assignment of tiny instances; the solver must reach the same minimum.
        var random = new Random(5);
        // 4 clusters of 2 too: later paths then pass through clusters an earlier path filled, where a W not updated for
        // the code that arrived gives a non-shortest path (n ≤ 3 hid a Move without its Join).
        for (int trial = 0; trial < 250; trial++)
        {
            var (count, clusters) = (trial % 5) switch { 0 => (6, 2), 1 => (6, 3), 2 => (8, 2), _ => (8, 4) };
            var distances = new float[count * clusters];
            for (int i = 0; i < distances.Length; i++) distances[i] = (float)Math.Round(random.NextDouble() * 4, 3);
            var solver = new ShortestPathAssignment(count, clusters, count / clusters);
            var assignment = new int[count];
            solver.Assign(distances, assignment);
            Assert.All(Enumerable.Range(0, clusters), j => Assert.Equal(count / clusters, assignment.Count(a => a == j)));
            double cost = Enumerable.Range(0, count).Sum(i => (double)distances[i * clusters + assignment[i]]);
            TensorAssert.Close(BruteForceMinimum(distances, count, clusters), cost, atol: 1e-4, rtol: 0);

            // A second call on perturbed distances (the warm start of the next Lloyd iteration) is exact too.
            for (int i = 0; i < distances.Length; i++) distances[i] = (float)Math.Round(distances[i] + random.NextDouble() - 0.5, 3);
            solver.Assign(distances, assignment);
            cost = Enumerable.Range(0, count).Sum(i => (double)distances[i * clusters + assignment[i]]);
            TensorAssert.Close(BruteForceMinimum(distances, count, clusters), cost, atol: 1e-4, rtol: 0);
        }
    }

    [Fact]
    public void Optimal_assignment_beats_the_official_greedy_on_clumped_codebooks()
    {
        using var codebook = IarTestData.Codebook(1024, 8, modes: 24, seed: 11);
        var optimal = new BalancedKMeans { Clusters = 16, Seed = 1 }.Fit(codebook);
        var greedy = new BalancedKMeans { Clusters = 16, Seed = 1, Assignment = BalancedAssignment.Greedy }.Fit(codebook);
        Assert.True(optimal.Converged);
        Assert.True(optimal.Error < greedy.Error, $"optimal {optimal.Error:F3} vs greedy {greedy.Error:F3}");
    }

    [Fact]
    public void Plain_kmeans_keeps_every_cluster_non_empty_and_is_not_balanced()
    {
        using var codebook = IarTestData.Codebook(600, 4, modes: 5, seed: 2);
        var result = new KMeans { Clusters = 12, Seed = 3 }.Fit(codebook);
        var sizes = result.Sizes();
        Assert.All(sizes, s => Assert.True(s >= 1));
        Assert.Equal(600, sizes.Sum());
        Assert.NotEqual(sizes.Min(), sizes.Max());
        var balanced = new BalancedKMeans { Clusters = 12, Seed = 3 }.Fit(codebook);
        Assert.True(result.Error <= balanced.Error, "unbalanced k-means should reach a lower error than the constrained one");
    }

    [Theory]
    [InlineData(100, 7, "clusters = 7 does not divide the 100 codes", "5, 4, 10, 20")]
    [InlineData(16, 32, "clusters = 32 is invalid for a codebook of 16 codes", null)]
    [InlineData(16, 0, "clusters = 0 is invalid", null)]
    public void Sizes_that_do_not_fit_are_configuration_errors_naming_what_works(int count, int clusters, string message, string? nearby)
    {
        using var codebook = IarTestData.Codebook(count, 2, modes: 2, seed: 0);
        var e = Assert.Throws<ConfigurationException>(() => new BalancedKMeans { Clusters = clusters }.Fit(codebook));
        Assert.Contains(message, e.Message);
        if (nearby is not null) Assert.All(nearby.Split(", "), n => Assert.Contains(n, e.Message));
    }

    [Fact]
    public void A_codebook_with_NaN_is_rejected_naming_the_row()
    {
        using var codebook = IarTestData.Codebook(64, 4, modes: 2, seed: 0);
        codebook[37, 2] = torch.tensor(float.NaN);
        var e = Assert.Throws<InvalidDataException>(() => new BalancedKMeans { Clusters = 8 }.Fit(codebook, source: "vq.safetensors:quantize.embedding.weight"));
        Assert.Contains("row 37", e.Message);
        Assert.Contains("vq.safetensors:quantize.embedding.weight", e.Message);
    }

    static double BruteForceMinimum(float[] distances, int count, int clusters)
    {
        int capacity = count / clusters;
        var sizes = new int[clusters];
        double best = double.PositiveInfinity;
        void Visit(int i, double cost)
        {
            if (i == count)
            {
                best = Math.Min(best, cost);
                return;
            }
            for (int j = 0; j < clusters; j++)
            {
                if (sizes[j] == capacity) continue;
                sizes[j]++;
                Visit(i + 1, cost + distances[i * clusters + j]);
                sizes[j]--;
            }
        }
        Visit(0, 0);
        return best;
    }
}
