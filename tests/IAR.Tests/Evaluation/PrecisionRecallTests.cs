using IAR.Host.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

public class PrecisionRecallTests
{
    [Fact]
    public void Matches_a_numpy_brute_force()
    {
        var s = NumpyFixture.Section("precision_recall");
        using var real = NumpyFixture.Tensor(s.GetProperty("real"));
        using var generated = NumpyFixture.Tensor(s.GetProperty("generated"));
        var (precision, recall) = PrecisionRecall.Compute(real, generated, s.GetProperty("k").GetInt32());
        Assert.Equal(s.GetProperty("precision").GetDouble(), precision, 12);
        Assert.Equal(s.GetProperty("recall").GetDouble(), recall, 12);
    }

    [Fact]
    public void Blocks_do_not_change_the_result_and_disjoint_sets_score_zero()
    {
        // more rows than one block (1024), and a generated cloud far from the real one
        using var g = new torch.Generator(3);
        using var real = torch.randn([1100, 5], generator: g);
        using var far = torch.randn([1100, 5], generator: g) + 100;
        var (precision, recall) = PrecisionRecall.Compute(real, far, 3);
        Assert.Equal(0.0, precision);
        Assert.Equal(0.0, recall);
        var (selfPrecision, selfRecall) = PrecisionRecall.Compute(real, real, 3);
        Assert.Equal(1.0, selfPrecision);
        Assert.Equal(1.0, selfRecall);
    }

    [Fact]
    public void A_collapsed_generator_has_precision_but_no_recall()
    {
        using var g = new torch.Generator(4);
        using var real = torch.randn([300, 3], generator: g);
        using var collapsed = torch.randn([300, 3], generator: g) * 0.01;   // all near the real mode
        var (precision, recall) = PrecisionRecall.Compute(real, collapsed, 3);
        Assert.True(precision > 0.95, $"precision {precision}");
        Assert.True(recall < 0.1, $"recall {recall}");
    }

    [Fact]
    public void Needs_more_than_k_samples()
    {
        using var three = torch.zeros(3, 2);
        using var ten = torch.zeros(10, 2);
        var e = Assert.Throws<ArgumentException>(() => PrecisionRecall.Compute(ten, three, 3));
        Assert.Contains("more than k samples", e.Message);
    }
}
