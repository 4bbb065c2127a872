using IAR.Host.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

public class InceptionScoreTests
{
    [Fact]
    public void Confident_predictions_spread_evenly_over_k_classes_score_k()
    {
        // one near-one-hot row per class, twice over
        using var logits = torch.eye(4).repeat(2, 1) * 60;
        Assert.Equal(4.0, InceptionScore.Compute(logits), 6);
    }

    [Fact]
    public void Identical_predictions_score_one()
    {
        using var logits = torch.tensor(new float[] { 1, 2, 3 }).repeat(5, 1);
        Assert.Equal(1.0, InceptionScore.Compute(logits), 9);
    }

    [Fact]
    public void Matches_numpy()
    {
        var s = NumpyFixture.Section("inception");
        using var logits = NumpyFixture.Tensor(s.GetProperty("logits"));
        Assert.Equal(s.GetProperty("inception_score").GetDouble(), InceptionScore.Compute(logits), 10);
    }
}
