using IAR.ContractTests;
using IAR.Host.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

public class FrechetDistanceTests
{
    static Tensor RandomCovariance(int d, torch.Generator g)
    {
        var a = torch.randn([d, 2 * d], ScalarType.Float64, generator: g);
        return a.matmul(a.t()) / (2 * d);
    }

    [Fact]
    public void Identical_gaussians_are_at_distance_zero()
    {
        using var g = new torch.Generator(5);
        using var mean = torch.randn([16], ScalarType.Float64, generator: g) * 3;
        using var cov = RandomCovariance(16, g) * 10;
        Assert.Equal(0, FrechetDistance.Compute(mean, cov, mean, cov), 9);
    }

    [Fact]
    public void Diagonal_covariances_match_the_closed_form()
    {
        // Σ1 = diag(a), Σ2 = diag(b) commute: d² = ‖μ1 − μ2‖² + Σ (√aᵢ − √bᵢ)²
        double[] a = [1, 4, 0.25, 9, 2], b = [4, 1, 1, 0.01, 2];
        double[] m1 = [0, 1, 2, 3, 4], m2 = [1, 1, 0, 3, -1];
        double expected = m1.Zip(m2, (x, y) => (x - y) * (x - y)).Sum() + a.Zip(b, (x, y) => Math.Pow(Math.Sqrt(x) - Math.Sqrt(y), 2)).Sum();
        using var s1 = torch.diag(torch.tensor(a));
        using var s2 = torch.diag(torch.tensor(b));
        using var mu1 = torch.tensor(m1);
        using var mu2 = torch.tensor(m2);
        TensorAssert.Close(expected, FrechetDistance.Compute(mu1, s1, mu2, s2), atol: 1e-10, rtol: 0);
    }

    [Fact]
    public void Equal_covariances_leave_only_the_squared_mean_difference()
    {
        using var g = new torch.Generator(9);
        using var cov = RandomCovariance(8, g);
        using var mu1 = torch.randn([8], ScalarType.Float64, generator: g);
        using var shift = torch.randn([8], ScalarType.Float64, generator: g);
        using var mu2 = mu1 + shift;
        TensorAssert.Close(shift.dot(shift).item<double>(), FrechetDistance.Compute(mu1, cov, mu2, cov), atol: 1e-9, rtol: 0);
    }

    [Fact]
    public void Matches_scipy_sqrtm_on_non_commuting_covariances()
    {
        var c = NumpyFixture.Case("moments_d8");
        using var mu1 = NumpyFixture.Tensor(c.GetProperty("mean1"));
        using var s1 = NumpyFixture.Tensor(c.GetProperty("cov1"));
        using var mu2 = NumpyFixture.Tensor(c.GetProperty("mean2"));
        using var s2 = NumpyFixture.Tensor(c.GetProperty("cov2"));
        double expected = c.GetProperty("fid").GetDouble();
        Assert.Equal(expected, FrechetDistance.Compute(mu1, s1, mu2, s2), expected * 1e-9);
        Assert.Equal(expected, FrechetDistance.Compute(mu2, s2, mu1, s1), expected * 1e-9);   // symmetric
    }

    [Theory]
    [InlineData("features_n60_n45_d6", 1e-9)]
    [InlineData("rank_deficient_n5_n7_d8", 1e-6)]   // scipy's sqrtm of a singular matrix is itself only ~1e-8 accurate
    public void Matches_numpy_statistics_and_scipy_from_raw_features(string name, double relativeTolerance)
    {
        var c = NumpyFixture.Case(name);
        using var f1 = NumpyFixture.Tensor(c.GetProperty("features1"));
        using var f2 = NumpyFixture.Tensor(c.GetProperty("features2"));
        using var a = FeatureStatistics.FromFeatures(f1);
        using var b = FeatureStatistics.FromFeatures(f2);
        double expected = c.GetProperty("fid").GetDouble();
        Assert.Equal(expected, FrechetDistance.Compute(a, b), expected * relativeTolerance);
    }

    [Fact]
    public void Feature_statistics_use_the_unbiased_covariance()
    {
        using var x = torch.tensor(new double[] { 1, 2, 3, 6 }, [4, 1]);
        using var s = FeatureStatistics.FromFeatures(x);
        Assert.Equal(3.0, s.Mean.item<double>(), 12);
        Assert.Equal((4 + 1 + 0 + 9) / 3.0, s.Covariance.item<double>(), 12);   // Σ(x − 3)² / (N − 1)
        Assert.Equal(4, s.Count);
    }

    [Fact]
    public void Rejects_mismatched_shapes_and_non_finite_values()
    {
        using var m3 = torch.zeros(3, ScalarType.Float64);
        using var m4 = torch.zeros(4, ScalarType.Float64);
        using var c3 = torch.eye(3, dtype: ScalarType.Float64);
        using var c4 = torch.eye(4, dtype: ScalarType.Float64);
        Assert.Contains("[D, D] of one D", Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(m3, c3, m4, c4)).Message);
        using var nan = torch.full(3, double.NaN, ScalarType.Float64);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(nan, c3, m3, c3)).Message);
        using var one = torch.zeros(1, 3);
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => FeatureStatistics.FromFeatures(one)).Message);
    }
}
