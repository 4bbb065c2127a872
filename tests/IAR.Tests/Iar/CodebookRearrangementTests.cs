using IAR.ContractTests;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Tests.Support;

namespace IAR.Tests.Iar;

public class CodebookRearrangementTests
{
    static IarSpec Spec(ClusteringMethod method, int? m = 16, int? n = null) =>
        new() { Enabled = true, Clustering = method, ClusterSize = m, Clusters = n };

    [Fact]
    public void Balanced_kmeans_puts_each_cluster_in_one_block_of_m()
    {
        using var codebook = IarTestData.Codebook(256, 8, modes: 10, seed: 1);
        var plan = CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans), codebook, seed: 3);
        Assert.Equal(16, plan.Layout.UniformSize);
        var direct = new BalancedKMeans { Clusters = 16, Seed = 3 }.Fit(codebook);
        // Block j of the new numbering holds exactly the codes of one k-means cluster.
        for (int j = 0; j < 16; j++)
        {
            var block = plan.Permutation.NewToOld.Skip(j * 16).Take(16).ToArray();
            Assert.Single(block.Select(old => direct.Assignment[old]).Distinct());
        }
        TensorAssert.Close(direct.Error, plan.Stats.ErrorAfter, atol: 1e-9, rtol: 0);
        Assert.True(plan.Stats.ErrorAfter < plan.Stats.ErrorBefore);
        Assert.Equal(plan.Permutation.Hash, CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans), codebook, seed: 3).Permutation.Hash);
    }

    [Fact]
    public void Random_split_is_seeded_and_balanced_but_not_similar()
    {
        using var codebook = IarTestData.Codebook(256, 8, modes: 10, seed: 1);
        var a = CodebookRearrangement.Plan(Spec(ClusteringMethod.Random), codebook, seed: 1);
        var b = CodebookRearrangement.Plan(Spec(ClusteringMethod.Random), codebook, seed: 1);
        var c = CodebookRearrangement.Plan(Spec(ClusteringMethod.Random), codebook, seed: 2);
        Assert.Equal(a.Permutation.Hash, b.Permutation.Hash);
        Assert.NotEqual(a.Permutation.Hash, c.Permutation.Hash);
        Assert.Equal(16, a.Layout.UniformSize);
        var kmeans = CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans), codebook, seed: 1);
        Assert.True(kmeans.Stats.ErrorAfter < 0.7 * a.Stats.ErrorAfter, $"k-means {kmeans.Stats.ErrorAfter:F2} vs random {a.Stats.ErrorAfter:F2}");
    }

    [Fact]
    public void Plain_kmeans_gives_contiguous_clusters_of_unequal_size()
    {
        using var codebook = IarTestData.Codebook(300, 4, modes: 4, seed: 8);
        var plan = CodebookRearrangement.Plan(Spec(ClusteringMethod.Kmeans, m: null, n: 10), codebook, seed: 0);
        Assert.False(plan.Layout.IsUniform);
        Assert.Equal(10, plan.Layout.Count);
        Assert.Equal(300, plan.Layout.Sizes.Sum());
        var direct = new KMeans { Clusters = 10, Seed = 0 }.Fit(codebook);
        for (int j = 0; j < 10; j++)
        {
            var block = plan.Permutation.NewToOld.Skip(plan.Layout.Offsets[j]).Take(plan.Layout.Sizes[j]);
            Assert.Single(block.Select(old => direct.Assignment[old]).Distinct());
        }
    }

    [Fact]
    public void None_is_the_identity_with_blocks_of_the_original_order()
    {
        using var codebook = IarTestData.Codebook(64, 2, modes: 2, seed: 0);
        var plan = CodebookRearrangement.Plan(Spec(ClusteringMethod.None, m: 8), codebook, seed: 0);
        Assert.True(plan.Permutation.IsIdentity);
        Assert.Equal("identity", plan.Permutation.Hash);
        Assert.Equal(8, plan.Layout.UniformSize);
        Assert.Equal(plan.Stats.ErrorBefore, plan.Stats.ErrorAfter);
    }

    [Fact]
    public void Inner_order_can_be_switched_off_without_changing_the_clusters()
    {
        using var codebook = IarTestData.Codebook(256, 8, modes: 10, seed: 4);
        var ordered = CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans), codebook, seed: 0);
        var plain = CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans) with { InnerOrder = false }, codebook, seed: 0);
        TensorAssert.Close(ordered.Stats.ErrorAfter, plain.Stats.ErrorAfter, atol: 1e-9, rtol: 0);
        for (int j = 0; j < 16; j++)
            Assert.Equal(ordered.Permutation.NewToOld.Skip(j * 16).Take(16).Order(), plain.Permutation.NewToOld.Skip(j * 16).Take(16).Order());
        Assert.True(ordered.Stats.AdjacentAfter < plain.Stats.AdjacentAfter);
        Assert.Equal(plain.Stats.AdjacentBefore, plain.Stats.AdjacentAfter);
    }

    [Fact]
    public void A_permutation_file_replaces_the_clustering_and_must_fit_the_codebook()
    {
        using var dir = new TempDir();
        using var codebook = IarTestData.Codebook(128, 4, modes: 6, seed: 2);
        var kmeansPlan = CodebookRearrangement.Plan(Spec(ClusteringMethod.Kmeans, m: null, n: 8), codebook, seed: 0);
        kmeansPlan.Save(dir.File("p.safetensors"));
        var loaded = CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans, m: null, n: 8) with { Permutation = dir.File("p.safetensors") }, codebook, seed: 5);
        Assert.Equal(kmeansPlan.Permutation.Hash, loaded.Permutation.Hash);
        Assert.Equal(kmeansPlan.Layout.Sizes, loaded.Layout.Sizes);
        TensorAssert.Close(kmeansPlan.Stats.ErrorAfter, loaded.Stats.ErrorAfter, atol: 1e-9, rtol: 0);

        using var bigger = IarTestData.Codebook(256, 4, modes: 6, seed: 2);
        var e = Assert.Throws<ConfigurationException>(() => CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans) with { Permutation = dir.File("p.safetensors") }, bigger, seed: 0));
        Assert.Contains("rearranges 128 codes but the tokenizer's codebook has 256", e.Message);
    }

    /// <summary>Random clusters and consecutive blocks run no iterations: nothing is left to converge.</summary>
    [Theory]
    [InlineData(ClusteringMethod.Random)]
    [InlineData(ClusteringMethod.None)]
    public void A_plan_without_iterations_counts_as_converged(ClusteringMethod method)
    {
        using var codebook = IarTestData.Codebook(64, 4, modes: 4, seed: 2);
        var plan = CodebookRearrangement.Plan(Spec(method, m: 8), codebook, seed: 0);
        Assert.Equal((0, true), (plan.Stats.Iterations, plan.Stats.Converged));
    }

    [Fact]
    public void A_loaded_plan_counts_as_converged_and_carries_the_health_of_its_clusters()
    {
        using var dir = new TempDir();
        using var codebook = IarTestData.Codebook(64, 4, modes: 4, seed: 2);
        var made = CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans, m: 8), codebook, seed: 0);
        made.Save(dir.File("p.safetensors"));
        var live = new LiveCodes(Enumerable.Range(0, 64).Select(c => c % 4 == 0 ? 0L : 1L).ToArray());   // 16 dead
        var loaded = CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans, m: 8) with { Permutation = dir.File("p.safetensors") },
            codebook, seed: 0, live: live);
        Assert.True(loaded.Stats.Converged);
        Assert.NotNull(loaded.Stats.Health);
        Assert.Equal((48, 16), (loaded.Stats.Health.LiveCodes, loaded.Stats.Health.DeadCodes));
    }

    [Fact]
    public void Refusals_name_the_file_the_counts_and_the_method()
    {
        using var dir = new TempDir();
        using var codebook = IarTestData.Codebook(64, 4, modes: 4, seed: 2);
        var missing = dir.File("missing.safetensors");
        var e = Assert.Throws<ConfigurationException>(() =>
            CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans) with { Permutation = missing }, codebook, seed: 0));
        Assert.Contains($"iar.permutation = '{missing}' does not exist", e.Message);

        CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans, m: 8), codebook, seed: 0).Save(dir.File("p.safetensors"));
        var clusters = Assert.Throws<ConfigurationException>(() =>
            CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans, m: null, n: 4) with { Permutation = dir.File("p.safetensors") }, codebook, seed: 0));
        Assert.Contains($"iar.clusters = 4 but the permutation file '{dir.File("p.safetensors")}' has 8 clusters", clusters.Message);

        var live = Assert.Throws<ArgumentException>(() =>
            CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans), codebook, seed: 0, "vq.safetensors", new LiveCodes(new long[7])));
        Assert.Contains("cover 7 codes but vq.safetensors has 64", live.Message);

        var method = Assert.Throws<ArgumentOutOfRangeException>(() => CodebookRearrangement.Plan(Spec((ClusteringMethod)9), codebook, seed: 0));
        Assert.Contains("Unknown clustering method", method.Message);
    }

    [Theory]
    [InlineData(100, 30, null, "iar.cluster_size = 30 does not divide the 100 codes")]
    [InlineData(100, null, 3, "iar.clusters = 3 does not divide the 100 codes")]
    [InlineData(64, 128, null, "iar.cluster_size = 128 is invalid for a codebook of 64 codes")]
    [InlineData(64, null, null, "Give iar.cluster_size")]
    public void Sizes_are_checked_against_the_codebook(int count, int? m, int? n, string message)
    {
        using var codebook = IarTestData.Codebook(count, 2, modes: 2, seed: 0);
        var e = Assert.Throws<ConfigurationException>(() => CodebookRearrangement.Plan(Spec(ClusteringMethod.BalancedKmeans, m, n), codebook, seed: 0));
        Assert.Contains(message, e.Message);
    }
}
