using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>
/// The cluster layout and the (n, m) resolution, value by value: the cluster of every index for unequal sizes (the
/// binary search), the boundaries of every range check and the divisors an error suggests. Written against the
/// mutants Stryker left alive (bench/mutation).
/// </summary>
public class ClusterLayoutTests
{
    [Fact]
    public void Every_index_of_an_unequal_layout_lies_in_its_block()
    {
        var layout = ClusterLayout.FromSizes([3, 1, 4, 2]);   // blocks [0,3) [3,4) [4,8) [8,10)
        int[] expected = [0, 0, 0, 1, 2, 2, 2, 2, 3, 3];
        Assert.Equal(expected, Enumerable.Range(0, 10).Select(layout.ClusterOf).ToArray());
        Assert.Equal([0, 3, 4, 8, 10], layout.Offsets);
        Assert.Equal(10, layout.VocabularySize);
        Assert.Equal(4, layout.Count);
        Assert.Null(layout.UniformSize);
        Assert.False(layout.IsUniform);

        var table = layout.ClusterOfIndex();   // the layout's cached table: not the caller's to dispose
        Assert.Equal(expected.Select(x => (long)x).ToArray(), table.data<long>().ToArray());
        Assert.Same(table, layout.ClusterOfIndex(CPU));   // cached per device
        using var indices = torch.tensor(new long[] { 9, 0, 3, 7, 4, 8 }).reshape(2, 3);
        using var clusters = layout.ClusterOf(indices);
        Assert.Equal([2L, 3L], clusters.shape);
        Assert.Equal(new long[] { 3, 0, 1, 2, 2, 3 }, clusters.data<long>().ToArray());
    }

    [Fact]
    public void The_cached_table_outlives_the_dispose_scope_it_was_built_in()
    {
        // An unequal layout maps indices through its table; built first inside a scope (as a training step does),
        // the cached table must not be disposed with that scope's tensors.
        var layout = ClusterLayout.FromSizes([1, 3]);
        using (torch.NewDisposeScope())
            layout.ClusterOf(torch.tensor(new long[] { 0, 3 }));
        using var indices = torch.tensor(new long[] { 0, 1, 3 });
        using var clusters = layout.ClusterOf(indices);
        Assert.Equal([0L, 1L, 1L], clusters.data<long>().ToArray());
    }

    [Fact]
    public void A_uniform_layout_divides_indices_by_m()
    {
        var layout = ClusterLayout.Uniform(12, 4);
        Assert.Equal(4, layout.UniformSize);
        Assert.True(layout.IsUniform);
        Assert.Equal(3, layout.Count);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], Enumerable.Range(0, 12).Select(layout.ClusterOf).ToArray());
        using var indices = torch.arange(12L);
        TensorAssert.Identical(torch.tensor(new long[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 }), layout.ClusterOf(indices));
        Assert.Equal("3 × 4", layout.ToString());
        // Equal sizes given one by one make a uniform layout too.
        Assert.Equal(2, ClusterLayout.FromSizes([2, 2, 2]).UniformSize);
    }

    [Fact]
    public void Indices_outside_the_vocabulary_and_empty_clusters_are_refused()
    {
        var layout = ClusterLayout.FromSizes([3, 1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.ClusterOf(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.ClusterOf(-1));
        Assert.Equal(1, layout.ClusterOf(3));
        Assert.Equal("2 clusters of 1–3", layout.ToString());

        Assert.Contains("at least one cluster", Assert.Throws<ArgumentException>(() => ClusterLayout.FromSizes([])).Message);
        Assert.Contains("Cluster 1 has size 0", Assert.Throws<ArgumentException>(() => ClusterLayout.FromSizes([2, 0, 1])).Message);
        Assert.Contains("Cluster 0 has size -1", Assert.Throws<ArgumentException>(() => ClusterLayout.FromSizes([-1])).Message);
        Assert.Equal(1, ClusterLayout.FromSizes([1]).Count);
    }

    [Fact]
    public void Cluster_size_or_count_resolves_to_n_and_m_at_the_edges_of_the_range()
    {
        Assert.Equal((4, 3), ClusterSizes.Resolve(12, 3, null));
        Assert.Equal((3, 4), ClusterSizes.Resolve(12, null, 3));
        Assert.Equal((12, 1), ClusterSizes.Resolve(12, 1, null));
        Assert.Equal((1, 12), ClusterSizes.Resolve(12, 12, null));
        Assert.Equal((1, 12), ClusterSizes.Resolve(12, null, 1));
        Assert.Equal((12, 1), ClusterSizes.Resolve(12, null, 12));

        string Refused(int? m, int? n) =>
            Assert.Throws<ConfigurationException>(() => ClusterSizes.Resolve(12, m, n, "size", "count")).Message;
        Assert.Contains("either size (m) or count (n), not both", Refused(3, 4));
        Assert.Contains("Give size (m", Refused(null, null));
        Assert.Contains("size = 0 is invalid", Refused(0, null));
        Assert.Contains("size = 13 is invalid", Refused(13, null));
        Assert.Contains("count = 0 is invalid", Refused(null, 0));
        Assert.Contains("count = 13 is invalid", Refused(null, 13));
        Assert.Contains("size = 5 does not divide the 12 codes into equal clusters; sizes that work nearby: 3, 4, 6, 12.", Refused(5, null));
        Assert.Contains("count = 5 does not divide the 12 codes into equal clusters; counts that work nearby: 3, 4, 6, 12.", Refused(null, 5));
        Assert.Contains("cluster size = 5", Assert.Throws<ConfigurationException>(() => ClusterSizes.RequireDivides(12, 5)).Message);
        ClusterSizes.RequireDivides(12, 6);
    }

    [Theory]
    [InlineData(1024, 100, "32, 64, 128, 256")]
    [InlineData(12, 4, "2, 3, 6, 12")]     // the wanted divisor itself is not repeated
    [InlineData(12, 1, "2, 3")]
    [InlineData(12, 12, "4, 6")]
    public void The_suggested_sizes_are_the_two_divisors_on_each_side(int value, int wanted, string expected) =>
        Assert.Equal(expected, ClusterSizes.Nearby(value, wanted));
}
