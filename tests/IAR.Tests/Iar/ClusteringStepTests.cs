using IAR.Abstractions;
using IAR.Host.Iar;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>
/// The steps inside the clusterings, each on inputs small enough to work out by hand: the initial centres (the
/// official <c>randperm</c> prefix, k-means++'s D² rule), the three assignments (nearest, the official greedy, the
/// greedy-then-exact switch), the codebook as vectors, and the argument checks of both k-means. The end-to-end tests
/// (BalancedKMeansTests, ReferenceFixtureTests) check quality bands; these pin each rule, so that a changed tie-break,
/// order or threshold fails here (the mutation run of bench/mutation found them unpinned).
/// </summary>
public class ClusteringStepTests
{
    static CodebookVectors RandomVectors(int count, int dim, int seed, bool normalize = false)
    {
        using var g = new torch.Generator((ulong)seed);
        using var codebook = torch.randn([count, dim], generator: g);
        return CodebookVectors.From(codebook, normalize);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Random_initial_centres_are_the_official_randperm_prefix(int seed)
    {
        var vectors = RandomVectors(20, 3, seed);
        using var g = new torch.Generator((ulong)seed);
        using var perm = torch.randperm(20, ScalarType.Int64, generator: g);
        var expected = perm.data<long>().Take(5).Select(x => (int)x).ToArray();

        Assert.Equal(expected, InitialCentres.Choose(vectors, 5, KMeansInitialisation.Random, (ulong)seed));
    }

    /// <summary>k-means++ written out from the paper's rule, on the same uniforms: the first centre ⌊u₀·V⌋, then the first
    /// code whose running sum of D² (distance to the nearest chosen centre) exceeds u_k·ΣD²; when every D² is 0, the
    /// lowest index not chosen.</summary>
    static int[] PlusPlusByHand(CodebookVectors v, int clusters, ulong seed)
    {
        using var g = new torch.Generator(seed);
        using var u = torch.rand(clusters, ScalarType.Float64, generator: g);
        var uniforms = u.data<double>().ToArray();
        var chosen = new List<int> { Math.Min((int)(uniforms[0] * v.Count), v.Count - 1) };
        while (chosen.Count < clusters)
        {
            var d2 = Enumerable.Range(0, v.Count).Select(i => chosen.Min(c => v.SquaredDistance(i, c))).ToArray();
            double total = d2.Sum(), target = uniforms[chosen.Count] * total, running = 0;
            int next = -1;
            if (total > 0)
                for (int i = 0; i < v.Count && next < 0; i++)
                    if (d2[i] > 0 && (running += d2[i]) > target) next = i;
            chosen.Add(next >= 0 ? next : Enumerable.Range(0, v.Count).First(i => !chosen.Contains(i)));
        }
        return chosen.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Plus_plus_initial_centres_follow_the_d_squared_rule(int seed)
    {
        var vectors = RandomVectors(40, 3, seed);
        var chosen = InitialCentres.Choose(vectors, 6, KMeansInitialisation.PlusPlus, (ulong)seed);

        Assert.Equal(PlusPlusByHand(vectors, 6, (ulong)seed), chosen);
        Assert.Equal(6, chosen.Distinct().Count());
    }

    [Fact]
    public void Plus_plus_takes_the_lowest_unchosen_codes_once_every_code_coincides_with_a_centre()
    {
        // Three distinct points, each twice: after two or three draws every D² is 0.
        using var codebook = torch.tensor(new float[] { 0, 0, 5, 5, 0, 0, 9, 1, 5, 5, 9, 1 }, [6, 2]);
        var vectors = CodebookVectors.From(codebook, normalize: false);
        for (ulong seed = 0; seed < 4; seed++)
        {
            var chosen = InitialCentres.Choose(vectors, 5, KMeansInitialisation.PlusPlus, seed);
            Assert.Equal(PlusPlusByHand(vectors, 5, seed), chosen);
            Assert.Equal(5, chosen.Distinct().Count());
        }
    }

    [Fact]
    public void Nearest_assignment_breaks_ties_by_the_lower_cluster_and_refills_an_empty_one_with_the_farthest_spare_code()
    {
        // 5 codes × 4 clusters (row-major). Nearest: 0 (tie 0/1 → 0), 1, 1, 0, 2; cluster 3 is empty.
        float[] distances =
        [
            1, 1, 5, 9,
            3, 2, 9, 9,
            4, 0.5f, 7, 9,
            2, 6, 8, 9,
            9, 9, 8.5f, 9.5f,
        ];
        var assignment = new int[5];
        new NearestAssignment(5, 4).Assign(distances, assignment);
        // Cluster 3 takes the farthest code of a cluster that can spare one: code 1 (2 from its centre; code 3 ties at 2
        // and comes later). Code 4 is farther (8.5) but alone in cluster 2.
        Assert.Equal([0, 3, 1, 0, 2], assignment);
    }

    [Fact]
    public void Nearest_assignment_fills_several_empty_clusters()
    {
        float[] distances =
        [
            1, 5, 5,
            2, 5, 5,
            3, 5, 5,
        ];
        var assignment = new int[3];
        new NearestAssignment(3, 3).Assign(distances, assignment);
        Assert.Equal([0, 2, 1], assignment);   // cluster 1 takes code 2 (3 from centre 0), then cluster 2 takes code 1
    }

    [Fact]
    public void Greedy_assignment_takes_codes_by_their_nearest_distance_and_breaks_ties_by_the_lower_cluster()
    {
        var assignment = new int[3];
        // Order of taking: code 0 (0.1), 1 (0.2, tied between clusters 0 and 1 → 0), 2 (0.3).
        new GreedyAssignment(3, 2, 2).Assign([0.1f, 5, 0.2f, 0.2f, 0.9f, 0.3f], assignment);
        Assert.Equal([0, 0, 1], assignment);

        // Capacity 1: code 1 is nearer to cluster 0 than code 0 is, so it is taken first and code 0 moves.
        var two = new int[2];
        new GreedyAssignment(2, 2, 1).Assign([0.5f, 0.9f, 0.1f, 0.8f], two);
        Assert.Equal([1, 0], two);
    }

    [Fact]
    public void Greedy_assignment_sends_a_code_whose_cluster_is_full_to_the_nearest_open_one_ties_to_the_lower()
    {
        // Capacity 1. Code 0 takes cluster 1; code 1's nearest (1) is full: clusters 0 and 2 tie at 0.7 → 0; code 2 → 2.
        float[] distances =
        [
            5, 0.1f, 5,
            0.7f, 0.2f, 0.7f,
            0.5f, 0.3f, 0.6f,
        ];
        var assignment = new int[3];
        new GreedyAssignment(3, 3, 1).Assign(distances, assignment);
        Assert.Equal([1, 0, 2], assignment);
    }

    [Fact]
    public void Optimal_assignment_runs_the_greedy_until_an_iteration_moves_no_code_then_the_exact_solver()
    {
        // Capacity 1: the greedy gives code 0 its nearest cluster 0 (cost 0 + 10); the exact optimum swaps (1 + 0.1).
        float[] distances = [0, 1, 0.1f, 10];
        var optimal = new OptimalAssignment(2, 2, 1);
        var assignment = new[] { -1, -1 };

        optimal.Assign(distances, assignment);   // greedy; both codes changed
        Assert.Equal([0, 1], assignment);
        optimal.Assign(distances, assignment);   // greedy again; nothing changed → the exact solver from now on
        Assert.Equal([0, 1], assignment);
        Assert.Equal(2, optimal.WarmUpIterations);
        optimal.Assign(distances, assignment);
        Assert.Equal([1, 0], assignment);
        Assert.Equal(2, optimal.WarmUpIterations);
    }

    [Fact]
    public void Optimal_assignment_keeps_the_greedy_while_exactly_the_threshold_share_of_codes_changes()
    {
        // 20 codes, 2 clusters of 10: WarmUpChange × 20 = 1 change still counts as moving (the switch needs fewer).
        var optimal = new OptimalAssignment(20, 2, 10);
        var distances = new float[40];
        for (int i = 0; i < 20; i++) (distances[2 * i], distances[2 * i + 1]) = i < 10 ? (0f, 1f) : (1f, 0f);
        var assignment = Enumerable.Range(0, 20).Select(i => i < 10 ? 0 : 1).ToArray();
        assignment[0] = 1;                       // one code changes in the next greedy pass
        assignment[19] = 0;
        optimal.Assign(distances, assignment);   // two changes: still warming up
        assignment[0] = 1;
        optimal.Assign(distances, assignment);   // one change (= 5 % of 20): still warming up
        Assert.Equal(2, optimal.WarmUpIterations);
        optimal.Assign(distances, assignment);   // none: switches
        Assert.Equal(3, optimal.WarmUpIterations);
        optimal.Assign(distances, assignment);
        Assert.Equal(3, optimal.WarmUpIterations);
    }

    [Fact]
    public void Codebook_vectors_refuse_what_is_not_a_non_empty_matrix_and_take_a_single_code()
    {
        foreach (var (shape, named) in new (long[], string)[] { ([0, 3], "[0, 3]"), ([3, 0], "[3, 0]"), ([3], "[3]") })
        {
            using var bad = torch.zeros(shape);
            var e = Assert.Throws<InvalidDataException>(() => CodebookVectors.From(bad, true, "vq.safetensors:embedding"));
            Assert.Contains("vq.safetensors:embedding", e.Message);
            Assert.Contains($"not {named}", e.Message);
        }
        using var one = torch.tensor(new float[] { 3, 4 }, [1, 2]);
        var single = CodebookVectors.From(one, normalize: true);
        Assert.Equal(1, single.Count);
        Assert.Equal([0.6f, 0.8f], single.Data);
    }

    [Fact]
    public void Codebook_vectors_normalise_only_when_asked_and_measure_squared_distances_between_rows()
    {
        using var codebook = torch.tensor(new float[] { 3, 4, 0, 2, 1, 0 }, [3, 2]);
        var raw = CodebookVectors.From(codebook, normalize: false);
        Assert.Equal([3f, 4f, 0f, 2f, 1f, 0f], raw.Data);
        Assert.Equal((3, 2), (raw.Count, raw.Dim));
        Assert.Equal([0f, 2f], raw.Row(1).ToArray());
        Assert.Equal(9 + 4, raw.SquaredDistance(0, 1), 12);
        Assert.Equal(4 + 16, raw.SquaredDistance(0, 2), 12);

        var unit = CodebookVectors.From(codebook, normalize: true);
        Assert.Equal([0.6f, 0.8f, 0f, 1f, 1f, 0f], unit.Data);
        Assert.Equal([1f, 0f, 3f, 4f], raw.Subset([2, 0]).Data);
    }

    [Fact]
    public void Plain_k_means_accepts_one_to_v_clusters_and_at_least_one_iteration()
    {
        var vectors = RandomVectors(6, 2, 0, normalize: true);
        foreach (var bad in new[] { 0, 7 })
            Assert.Contains($"clusters = {bad}", Assert.Throws<ConfigurationException>(() => new KMeans { Clusters = bad }.Fit(vectors)).Message);
        Assert.Contains("max_iterations = 0", Assert.Throws<ConfigurationException>(() => new KMeans { Clusters = 2, MaxIterations = 0 }.Fit(vectors)).Message);

        Assert.All(new KMeans { Clusters = 1 }.Fit(vectors).Assignment, c => Assert.Equal(0, c));
        Assert.Equal(6, new KMeans { Clusters = 6 }.Fit(vectors).Assignment.Distinct().Count());
        Assert.Equal(1, new KMeans { Clusters = 2, MaxIterations = 1 }.Fit(vectors).Iterations);
    }

    [Fact]
    public void Balanced_k_means_needs_no_iteration_for_one_cluster_or_one_code_per_cluster()
    {
        var vectors = RandomVectors(6, 2, 1, normalize: true);
        Assert.Contains("max_iterations = 0", Assert.Throws<ConfigurationException>(() => new BalancedKMeans { Clusters = 2, MaxIterations = 0 }.Fit(vectors)).Message);

        var one = new BalancedKMeans { Clusters = 1 }.Fit(vectors);
        Assert.Equal([0, 0, 0, 0, 0, 0], one.Assignment);
        Assert.True(one.Converged);
        Assert.Equal(0, one.Iterations);
        var each = new BalancedKMeans { Clusters = 6 }.Fit(vectors);
        Assert.Equal([0, 1, 2, 3, 4, 5], each.Assignment);
        Assert.True(each.Converged);
        Assert.Equal(0, each.Error, 12);
        Assert.Equal(1, new BalancedKMeans { Clusters = 2, MaxIterations = 1 }.Fit(vectors).Iterations);
    }
    /// <summary>An assignment step that plays a script and keeps what it was given.</summary>
    sealed class ScriptedStep(Func<int, float[], int[]> script) : IClusterAssignment
    {
        public List<float[]> Distances { get; } = [];

        public void Assign(float[] distances, int[] assignment)
        {
            Distances.Add((float[])distances.Clone());
            script(Distances.Count, distances).CopyTo(assignment, 0);
        }
    }

    [Fact]
    public void Lloyd_iterations_measure_squared_distances_to_the_initial_codes_first_then_to_the_cluster_means()
    {
        // More rows than one parallel task takes (1024) and a cluster count that is no multiple of the SIMD width.
        const int count = 2100, clusters = 3;
        var vectors = RandomVectors(count, 3, 5);
        int[] initial = [7, 1500, 2099];
        int[] halves = Enumerable.Range(0, count).Select(i => i % clusters).ToArray();
        var step = new ScriptedStep((_, _) => halves);

        var result = LloydIterations.Run(vectors, clusters, initial, maxIterations: 5, step);

        for (int i = 0; i < count; i += 97)
            for (int j = 0; j < clusters; j++)
                Assert.Equal(vectors.SquaredDistance(i, initial[j]), step.Distances[0][i * clusters + j], 1e-5);
        // The second call measures against the means of the first assignment.
        var mean = new double[3];
        for (int i = 1; i < count; i += clusters)
            for (int d = 0; d < 3; d++) mean[d] += vectors.Row(i)[d] / (double)(count / clusters);
        double expected = Enumerable.Range(0, 3).Sum(d => Math.Pow(vectors.Row(4)[d] - mean[d], 2));
        Assert.Equal(expected, step.Distances[1][4 * clusters + 1], 1e-5);
        Assert.Equal((2, true), (result.Iterations, result.Converged));
        Assert.Equal(halves, result.Assignment);
    }

    [Fact]
    public void Lloyd_iterations_stop_when_the_centres_stop_moving_even_if_codes_still_swap_and_else_at_the_limit()
    {
        // Codes 0/1 and 2/3 are duplicates: swapping them changes the assignment but not the means.
        using var codebook = torch.tensor(new float[] { 0, 0, 0, 0, 4, 2, 4, 2 }, [4, 2]);
        var vectors = CodebookVectors.From(codebook, normalize: false);
        var swapping = new ScriptedStep((call, _) => call % 2 == 1 ? [0, 1, 0, 1] : [1, 0, 1, 0]);
        var still = LloydIterations.Run(vectors, 2, [0, 2], maxIterations: 5, swapping);
        Assert.Equal((2, true), (still.Iterations, still.Converged));

        // Alternating between two assignments with different means never settles: the limit ends it, not converged.
        var alternating = new ScriptedStep((call, _) => call % 2 == 1 ? [0, 0, 1, 1] : [0, 1, 0, 1]);
        var limited = LloydIterations.Run(vectors, 2, [0, 1], maxIterations: 3, alternating);
        Assert.Equal((3, false), (limited.Iterations, limited.Converged));
        Assert.Equal(3, alternating.Distances.Count);
    }
    [Fact]
    public void Inner_order_starts_at_the_code_nearest_the_mean_and_grows_left_then_right_by_nearest_neighbours_ties_to_the_lower()
    {
        // 1-D codes. Block 0 (values 10 0 4 5 6 1, mean 4.33): 4 in the middle slot (2), its nearest 5 after it, then
        // alternately left (nearest to the left end) and right: 6, 1, 10, 0. Block 1 (3 5): a tie to the mean keeps the
        // lower position first. Block 2 (4 3 5): 3 and 5 tie as 4's neighbour; the lower position (3) goes right.
        float[] values = [10, 0, 4, 5, 6, 1, 3, 5, 4, 3, 5];
        using var codebook = torch.tensor(values, [values.Length, 1]);
        var vectors = CodebookVectors.From(codebook, normalize: false);
        var layout = ClusterLayout.FromSizes([6, 2, 3]);

        var order = InnerClusterOrder.Apply(vectors, Enumerable.Range(0, values.Length).ToArray(), layout);

        Assert.Equal([0, 4, 2, 3, 5, 1, 6, 7, 10, 8, 9], order);
        var e = Assert.Throws<ArgumentException>(() => InnerClusterOrder.Apply(vectors, [0, 1], layout));
        Assert.Contains("has 2 positions but the layout covers 11", e.Message);
    }
}
