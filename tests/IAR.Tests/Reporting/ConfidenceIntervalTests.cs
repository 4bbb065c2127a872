using IAR.Host.Reporting;

namespace IAR.Tests.Reporting;

public class ConfidenceIntervalTests
{
    [Fact]
    public void The_t_interval_of_a_mean_uses_the_t_quantile_of_n_minus_one_degrees_of_freedom()
    {
        // 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303 → 2 ± 4.303/√3
        var i = ConfidenceInterval.OfMean([1, 2, 3]);
        Assert.Equal(2, i.Estimate, 12);
        Assert.Equal(2 - 4.303 / Math.Sqrt(3), i.Low, 12);
        Assert.Equal(2 + 4.303 / Math.Sqrt(3), i.High, 12);
        // a noise known from elsewhere sets the least half-width
        var floored = ConfidenceInterval.OfMean([1, 1.001], minimumHalfWidth: 0.5);
        Assert.Equal(1.0005 - 0.5, floored.Low, 12);
        Assert.Throws<ArgumentException>(() => ConfidenceInterval.OfMean([1]));
    }

    [Fact]
    public void The_t_quantile_approaches_the_normal_one()
    {
        Assert.Equal(12.706, ConfidenceInterval.StudentT975(1), 3);
        Assert.Equal(2.042, ConfidenceInterval.StudentT975(30), 3);
        Assert.Equal(2.021, ConfidenceInterval.StudentT975(40), 3);   // tables: 2.021
        Assert.Equal(1.984, ConfidenceInterval.StudentT975(100), 3);  // tables: 1.984
    }

    [Fact]
    public void Percentiles_interpolate_between_order_statistics()
    {
        // 0 … 40: the 2.5 % point is at position 1 (value 1), the 97.5 % point at 39
        var i = ConfidenceInterval.OfPercentiles(20, Enumerable.Range(0, 41).Select(v => (double)v).Reverse().ToArray());
        Assert.Equal((20.0, 1.0, 39.0), (i.Estimate, i.Low, i.High));
        Assert.True(i.Excludes(0.5) && i.Excludes(39.5) && !i.Excludes(20));
    }
}
