using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.LlamaGen.Gpt;
using static TorchSharp.torch;

namespace IAR.Tests.LlamaGen;

public class LogitFilterTests
{
    static readonly double Removed = double.NegativeInfinity;

    [Fact]
    public void Top_k_keeps_the_k_largest_and_ties_with_the_kth()
    {
        var logits = tensor(new float[] { 1, 3, 2, 3, 0, 2 }).unsqueeze(0);
        var filtered = LogitFilter.Apply(logits, new SamplingOptions(TopK: 3));
        TensorAssert.Identical(tensor(new double[] { Removed, 3, 2, 3, Removed, 2 }).to(ScalarType.Float32).unsqueeze(0), filtered);
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_whose_mass_reaches_p()
    {
        // probabilities 0.5, 0.25, 0.125, 0.125: the first two reach 0.75; with p = 0.7 the second crosses and stays.
        var p = tensor(new float[] { 0.5f, 0.25f, 0.125f, 0.125f }).log().unsqueeze(0);
        var filtered = LogitFilter.Apply(p, new SamplingOptions(TopP: 0.7));
        Assert.Equal(new[] { true, true, false, false }, filtered.isfinite().data<bool>().ToArray());
        filtered = LogitFilter.Apply(p, new SamplingOptions(TopP: 0.1));
        Assert.Equal(new[] { true, false, false, false }, filtered.isfinite().data<bool>().ToArray());
    }

    [Fact]
    public void Temperature_divides_the_logits()
    {
        var logits = tensor(new float[] { 1, -2, 4 }).unsqueeze(0);
        TensorAssert.Close(logits / 2, LogitFilter.Apply(logits, new SamplingOptions(Temperature: 2)), 0, 0);
    }

    [Fact]
    public void Sampling_draws_from_the_filtered_distribution()
    {
        var logits = tensor(new float[] { 0, 0, 5, 0 }).unsqueeze(0).expand(2000, 4);
        using var rng = new TorchSharp.torch.Generator(1);
        var draws = LogitFilter.Sample(logits, new SamplingOptions(TopK: 2), rng);                 // ties at 0 survive top-2
        var counts = bincount(draws, minlength: 4).data<long>().ToArray();
        double p2 = Math.Exp(5) / (Math.Exp(5) + 3);
        Assert.InRange(counts[2] / 2000.0, p2 - 0.02, p2 + 0.02);
        Assert.True(counts[0] > 0 && counts[1] > 0 && counts[3] > 0);
    }
}
