using IAR.Abstractions;
using IAR.Host.Iar;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>
/// What the cluster loss and its layout refuse, and where their tables live: logits whose last axis is not the
/// layout's vocabulary (also when their element count happens to reshape to it), a cluster size that does not divide
/// V, an index outside the vocabulary, and the device a table is asked for.
/// </summary>
public class ClusterLossInputTests
{
    [Fact]
    public void Logits_of_another_vocabulary_are_refused_even_when_they_would_reshape_to_this_one()
    {
        var loss = new ClusterCrossEntropy(ClusterLayout.Uniform(8, 4));
        using var targets = torch.zeros([1, 2], ScalarType.Int64);
        using var logits = torch.zeros([1, 2, 4]);                     // 8 elements: reshape(-1, 8) would accept them
        Assert.Throws<ArgumentException>(() => loss.Compute(logits, targets));

        using var logProbabilities = torch.zeros([2, 9]).log_softmax(-1);   // V + 1 columns: gather would not notice
        using var flat = torch.zeros([2], ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => loss.ComputeFromLogProbabilities(logProbabilities, flat));
    }

    [Fact]
    public void A_uniform_layout_needs_a_cluster_size_that_divides_the_vocabulary()
    {
        Assert.Throws<ConfigurationException>(() => ClusterLayout.Uniform(10, 3));
        Assert.Equal("5 × 2", ClusterLayout.Uniform(10, 2).ToString());
    }

    [Fact]
    public void The_cluster_of_an_index_outside_the_vocabulary_is_refused_naming_the_range()
    {
        var layout = ClusterLayout.FromSizes([3, 5]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => layout.ClusterOf(8));
        Assert.Contains("Index 8 is outside [0, 8)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.ClusterOf(-1));
        Assert.Equal((0, 0, 1, 1), (layout.ClusterOf(0), layout.ClusterOf(2), layout.ClusterOf(3), layout.ClusterOf(7)));
    }

    [Fact]
    public void The_cluster_table_is_made_on_the_device_asked_for()
    {
        var layout = ClusterLayout.FromSizes([3, 5]);
        Assert.Equal(DeviceType.CPU, layout.ClusterOfIndex().device_type);
        Assert.Equal(DeviceType.META, layout.ClusterOfIndex(torch.META).device_type);
        Assert.Equal([0L, 0, 0, 1, 1, 1, 1, 1], layout.ClusterOfIndex().data<long>().ToArray());
    }
}
