using System.Numerics;
using IAR.Host.Iar;
using Xunit;

namespace IAR.Tests.Iar;

/// <summary>
/// The assignment steps' documented choices, worked out by hand: the exact assignment's tie rules (the lower cluster,
/// the code that reached W first moves) and the nearest assignment's refilling of empty clusters.
/// </summary>
public class AssignmentTieAndRefillTests
{
    [Fact]
    public void Exact_assignment_ties_go_to_the_lower_cluster_and_the_first_code_moves()
    {
        // 2 codes at distance 0 from both clusters (scalar path, n < SIMD width): both start in cluster 0 (the lower),
        // then code 0 (the first to attain W[0, 1]) moves to cluster 1.
        var assignment = new int[2];
        new ShortestPathAssignment(2, 2, 1).Assign(new float[4], assignment);
        Assert.Equal([1, 0], assignment);
    }

    [Fact]
    public void Exact_assignment_ties_go_to_the_lower_cluster_across_simd_lanes()
    {
        // n = one SIMD vector of clusters, 1 code each. Codes 0 and 1 sit at 0 from clusters 0 and 1; code j ≥ 2 at 0
        // from cluster j; everything else is 9. Both tied codes start in cluster 0, then code 0 moves to cluster 1.
        int n = Vector<float>.Count;
        var distances = new float[n * n];
        Array.Fill(distances, 9f);
        distances[0 * n + 0] = distances[0 * n + 1] = distances[1 * n + 0] = distances[1 * n + 1] = 0;
        for (int j = 2; j < n; j++) distances[j * n + j] = 0;
        var assignment = new int[n];
        new ShortestPathAssignment(n, n, 1).Assign(distances, assignment);
        Assert.Equal([1, 0, .. Enumerable.Range(2, n - 2)], assignment);
    }

    [Fact]
    public void Exact_assignment_refuses_clusters_that_do_not_hold_the_codes()
    {
        var e = Assert.Throws<ArgumentException>(() => new ShortestPathAssignment(10, 3, 3));
        Assert.Equal("3 clusters of 3 do not hold 10 codes.", e.Message);
    }

    [Fact]
    public void Exact_assignment_keeps_its_prices_within_a_call_and_across_calls()
    {
        // Instances a scalar port of the solver found, where stale prices give a longer path. Expected costs are the
        // brute-force minima over every balanced assignment (2 520 and 90 of them), not this solver's output.
        float[] within = [3.974f, 0.928f, 1.58f, 0.697f, 0.019f, 2.154f, 2.48f, 0.65f, 3.35f, 0.888f, 3.749f, 2.694f, 3.885f, 1.752f,
            3.354f, 2.421f, 2.86f, 1.642f, 2.046f, 1.087f, 1.348f, 3.702f, 0.313f, 3.329f, 3f, 0.648f, 1.722f, 3.341f, 2.035f, 2.031f,
            2.015f, 0.688f];   // [8 codes, 4 clusters]
        Assert.Equal(8.513, Cost(within, new ShortestPathAssignment(8, 4, 2), within, 4), 3);

        // A second call starts from the first call's prices (the warm start of the next Lloyd iteration).
        float[] first = [3.082f, 2.158f, 3.441f, 0.929f, 2.055f, 3.81f, 2.311f, 1.837f, 1.077f, 2.192f, 3.828f, 0.023f, 3.135f, 3.282f,
            3.545f, 2.962f, 3.237f, 2.075f];   // [6 codes, 3 clusters]
        float[] second = [3.143f, 2.084f, 2.997f, 1.299f, 2.125f, 3.51f, 2.316f, 1.822f, 0.934f, 2.038f, 3.866f, 0.146f, 3.247f, 3.24f,
            3.073f, 2.692f, 2.914f, 2.159f];
        var solver = new ShortestPathAssignment(6, 3, 2);
        Cost(first, solver, first, 3);
        Assert.Equal(10.395, Cost(second, solver, second, 3), 3);
    }

    [Fact]
    public void Exact_assignment_warm_started_over_whole_simd_vectors_of_clusters_reaches_the_cold_start_minimum()
    {
        // n = one SIMD vector of clusters (the vector path of the first pass), 2 codes each. A second call starts from
        // the prices the first left (perturbed distances, as in the next Lloyd iteration) and must reach the same
        // minimum as a fresh solver, whose prices start at 0.
        int n = Vector<float>.Count, count = 2 * n;
        var random = new Random(1);
        for (int trial = 0; trial < 20; trial++)
        {
            var first = Enumerable.Range(0, count * n).Select(_ => (float)(4 * random.NextDouble())).ToArray();
            var second = first.Select(d => d + (float)(0.5 * random.NextDouble())).ToArray();
            var warm = new ShortestPathAssignment(count, n, 2);
            Cost(first, warm, first, n);
            Assert.Equal(Cost(second, new ShortestPathAssignment(count, n, 2), second, n), Cost(second, warm, second, n), 4);
        }
    }

    static double Cost(float[] distances, ShortestPathAssignment solver, float[] scored, int clusters)
    {
        var assignment = new int[distances.Length / clusters];
        solver.Assign(distances, assignment);
        return Enumerable.Range(0, assignment.Length).Sum(i => (double)scored[i * clusters + assignment[i]]);
    }

    [Theory]
    // Every spare code within distance 1 of its centre: the farthest of them (code 1, 0.5) still refills cluster 1.
    [InlineData(2, new float[] { 0, 5, 0.5f, 5, 0.2f, 5 }, new[] { 0, 1, 0 })]
    // Distances read from each code's own row and cluster: code 2 (2 from cluster 1) is the farthest spare one.
    [InlineData(3, new float[] { 0, 9, 9, 9, 1, 9, 9, 2, 9 }, new[] { 0, 1, 2 })]
    // Two empty clusters: after code 3 leaves cluster 1 it has one code left and cannot spare code 2 (1.5), so
    // cluster 3 takes code 1 (1) from cluster 0.
    [InlineData(4, new float[] { 0, 9, 9, 9, 1, 9, 9, 9, 9, 1.5f, 9, 9, 9, 2, 9, 9 }, new[] { 0, 3, 1, 2 })]
    public void Nearest_assignment_refills_an_empty_cluster_with_the_farthest_code_a_cluster_can_spare(int clusters, float[] distances, int[] expected)
    {
        var assignment = new int[expected.Length];
        new NearestAssignment(expected.Length, clusters).Assign(distances, assignment);
        Assert.Equal(expected, assignment);
    }
}
