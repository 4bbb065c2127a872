using IAR.Host.Iar;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using IAR.Tests.Training;
using TorchSharp;

namespace IAR.Tests.Iar;

/// <summary>Cluster health (live codes per cluster) and <c>iar.dead_codes</c>.</summary>
public class DeadCodeClusteringTests
{
    const int V = 256, M = 16;

    static IarSpec Spec(DeadCodeTreatment dead, ClusteringMethod method = ClusteringMethod.BalancedKmeans) =>
        new() { Enabled = true, Clustering = method, ClusterSize = M, DeadCodes = dead };

    /// <summary>Every third code of the first 150 and codes 200…209 are dead: 60 dead, 196 live (not a multiple of m).</summary>
    static LiveCodes KnownDeadCodes(out HashSet<int> dead)
    {
        dead = Enumerable.Range(0, 150).Where(c => c % 3 == 0).Concat(Enumerable.Range(200, 10)).ToHashSet();
        var set = dead;
        return new LiveCodes(Enumerable.Range(0, V).Select(c => set.Contains(c) ? 0L : 1 + c % 5L).ToArray());
    }

    [Fact]
    public void Apart_puts_dead_codes_in_the_last_clusters_keeps_sizes_m_and_a_bijection()
    {
        using var codebook = IarTestData.Codebook(V, 8, modes: 10, seed: 1);
        var live = KnownDeadCodes(out var dead);
        var plan = CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Apart), codebook, seed: 3, live: live);

        Assert.Equal(Enumerable.Range(0, V), plan.Permutation.NewToOld.Order());                         // a bijection
        Assert.All(plan.Layout.Sizes, size => Assert.Equal(M, size));
        // 196 live codes and the 12 lowest dead codes (0, 3, …, 33) fill ⌈196 / 16⌉ = 13 clusters; the 3 last clusters
        // hold the other 48 dead codes only.
        var livePerCluster = Enumerable.Range(0, V / M)
            .Select(j => plan.Permutation.NewToOld.Skip(j * M).Take(M).Count(old => !dead.Contains(old))).ToArray();
        Assert.Equal(196, livePerCluster[..13].Sum());
        Assert.All(livePerCluster[..13], c => Assert.True(c > 0, "a live cluster without live codes"));
        Assert.All(livePerCluster[13..], c => Assert.Equal(0, c));
        var fillers = plan.Permutation.NewToOld.Take(13 * M).Where(dead.Contains).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => 3 * i), fillers);

        var health = plan.Stats.Health!;
        Assert.Equal((196, 60, M, 3), (health.LiveCodes, health.DeadCodes, health.MaxLive, health.DeadClusters));
        Assert.Equal(0, health.MinLive);
        Assert.InRange(health.DilutedClusters, 1, 12);
        var sorted = livePerCluster.Order().ToArray();
        Assert.Equal((sorted[7] + sorted[8]) / 2.0, health.MedianLive);                                   // 16 clusters
        Assert.Equal("16", plan.Stats.ToDictionary()["live_per_cluster_max"]);
        Assert.Equal(plan.Permutation.Hash, CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Apart), codebook, seed: 3, live: live).Permutation.Hash);
    }

    [Fact]
    public void Mixed_and_random_clusters_spread_dead_codes_and_the_health_says_so()
    {
        using var codebook = IarTestData.Codebook(V, 8, modes: 10, seed: 1);
        var live = KnownDeadCodes(out _);
        var mixed = CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Mixed), codebook, seed: 3, live: live);
        var unaware = CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Mixed), codebook, seed: 3);
        Assert.Equal(unaware.Permutation.Hash, mixed.Permutation.Hash);                                  // mixed ignores liveness
        Assert.Null(unaware.Stats.Health);
        Assert.True(mixed.Stats.Health!.DilutedClusters > 1, $"{mixed.Stats.Health}");

        var random = CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Apart, ClusteringMethod.Random), codebook, seed: 3, live: live);
        Assert.True(random.Stats.Health!.DilutedClusters > 1, $"{random.Stats.Health}");                // apart applies to balanced k-means only
        Assert.Equal(196, random.Stats.Health.LiveCodes);
    }

    [Fact]
    public void Without_dead_codes_apart_equals_mixed()
    {
        using var codebook = IarTestData.Codebook(V, 8, modes: 10, seed: 1);
        var allLive = new LiveCodes(Enumerable.Repeat(1L, V).ToArray());
        var apart = CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Apart), codebook, seed: 3, live: allLive);
        Assert.Equal(CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Mixed), codebook, seed: 3).Permutation.Hash, apart.Permutation.Hash);
        Assert.Equal((M, 16.0, M, 0, 0), (apart.Stats.Health!.MinLive, apart.Stats.Health.MedianLive, apart.Stats.Health.MaxLive,
            apart.Stats.Health.DilutedClusters, apart.Stats.Health.DeadClusters));
    }

    [Fact]
    public void Apart_with_every_code_dead_clusters_them_all_like_mixed()
    {
        using var codebook = IarTestData.Codebook(V, 8, modes: 10, seed: 1);
        var allDead = new LiveCodes(new long[V]);
        var apart = CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Apart), codebook, seed: 3, live: allDead);
        Assert.Equal(CodebookRearrangement.Plan(Spec(DeadCodeTreatment.Mixed), codebook, seed: 3).Permutation.Hash, apart.Permutation.Hash);
        Assert.Equal(V / M, apart.Stats.Health!.DeadClusters);
    }

    [Fact]
    public void Apart_with_a_live_count_that_is_a_multiple_of_m_takes_no_dead_code_into_k_means()
    {
        // 1-D codes, m = 2: live codes 4…7 at 0, 10, 20, 30; dead codes 0 and 1 sit next to live ones (1 and 11), 2 and
        // 3 far away. 4 live codes fill exactly 2 clusters, so no dead code joins them; one more cluster would pair the
        // near dead codes with live ones.
        using var codebook = torch.tensor(new float[] { 1, 11, 100, 200, 0, 10, 20, 30 }, [8, 1]);
        var live = new LiveCodes([0, 0, 0, 0, 1, 1, 1, 1]);
        var spec = new IarSpec { Enabled = true, Clustering = ClusteringMethod.BalancedKmeans, ClusterSize = 2, DeadCodes = DeadCodeTreatment.Apart,
            Normalize = false, InnerOrder = false };
        var newToOld = CodebookRearrangement.Plan(spec, codebook, seed: 0, live: live).Permutation.NewToOld;
        Assert.Equal([4, 5, 6, 7], newToOld.Take(4).Order());
        Assert.Equal([0, 1, 2, 3], newToOld.Skip(4));
    }

    [Fact]
    public void Iar_rearrange_with_a_runs_token_cache_prints_and_records_the_cluster_health()
    {
        using var experiment = new TinyExperiment(steps: 20);
        var run = experiment.Run("run");
        var prepared = CliRunner.Run(experiment.Arguments(run, "--prepare"));
        Assert.True(prepared.ExitCode == 0, prepared.ToString());
        var tokens = Path.Combine(run, "tokens", "train.safetensors");
        var output = experiment.Dir.File("rearranged");
        var r = CliRunner.Run("rearrange", "--tokenizer", "FixturePlugin/tiny", "--checkpoint", Path.Combine(run, "tokenizer.safetensors"),
            "--image", "1x16x16", "-m", "4", "--tokens", tokens, "--plugins", experiment.Plugins, "-o", output);
        Assert.True(r.ExitCode == 0, r.ToString());
        var live = LiveCodes.OfCacheFile(tokens, 16);
        Assert.Contains($"live codes {live.LiveCount} of 16", r.Output);
        var metadata = SafeTensorsFile.Open(Path.Combine(output, "permutation.safetensors")).Metadata;
        Assert.Equal(live.LiveCount.ToString(), metadata["iar.stats.live_codes"]);
        Assert.Equal(live.DeadCount.ToString(), metadata["iar.stats.dead_codes"]);

        var wrongSize = CliRunner.Run("rearrange", "--tokenizer", "FixturePlugin/tiny", "--image", "1x16x16", "-m", "4",
            "--option", "levels=32", "--tokens", tokens, "--plugins", experiment.Plugins, "-o", experiment.Dir.File("x"));
        Assert.Equal(2, wrongSize.ExitCode);
        Assert.Contains("16-code vocabulary", wrongSize.Error);
    }
}
