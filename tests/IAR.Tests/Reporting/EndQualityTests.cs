using IAR.Host.Evaluation;
using IAR.Host.Reporting;

namespace IAR.Tests.Reporting;

public class EndQualityTests
{
    static Dictionary<int, double> Finals(params double[] fids) => fids.Select((f, i) => (i, f)).ToDictionary(x => x.i, x => x.f);

    // draws 9, 10, 11: sd 1, margin 2√2
    static readonly NoiseFloor Floor = new(1000, 2000, 6000, [9, 10, 11], true, 1);

    [Fact]
    public void Seeds_are_paired_and_give_a_t_interval_of_the_differences()
    {
        // differences 1, 2, 3 (a common seed effect of +10 on both arms cancels in the pairs)
        var e = EndQuality.Estimate(Finals(10, 20, 30), Finals(11, 22, 33), floor: null);
        Assert.Equal(2, e.Difference.Estimate, 12);
        Assert.Equal(2 - 4.303 / Math.Sqrt(3), e.Difference.Low, 12);
        Assert.Equal(3, e.Seeds);
        Assert.Null(e.FloorMargin);
    }

    [Fact]
    public void The_noise_floor_sets_the_least_width_of_a_seeded_interval()
    {
        // differences 1, 1.01: a tiny t interval; the floor's margin 2√2 over √2 seeds = 2 is wider
        var e = EndQuality.Estimate(Finals(10, 20), Finals(11, 21.01), Floor);
        Assert.Equal(1.005 - 2, e.Difference.Low, 9);
        Assert.Equal(1.005 + 2, e.Difference.High, 9);
    }

    [Fact]
    public void One_seed_uses_the_larger_of_the_floors_margin_and_the_relative_noise_of_the_baselines_fid()
    {
        // floor sd 1 > 3 % of 20 = 0.6: ± 2√2
        var withFloor = EndQuality.Estimate(Finals(20), Finals(18), Floor);
        Assert.Equal((-2.0, -2 - 2 * Math.Sqrt(2), -2 + 2 * Math.Sqrt(2)), (withFloor.Difference.Estimate, withFloor.Difference.Low, withFloor.Difference.High));
        // no floor: ± 2√2 · 0.6
        var without = EndQuality.Estimate(Finals(20), Finals(18), floor: null);
        Assert.Equal(-2 - 2 * Math.Sqrt(2) * 0.6, without.Difference.Low, 12);
        Assert.Equal(-2 + 2 * Math.Sqrt(2) * 0.6, without.Difference.High, 12);
        // a floor below 3 % of the FID: the relative part
        var small = EndQuality.Estimate(Finals(20), Finals(18), new NoiseFloor(1000, 2000, 6000, [9.9, 10, 10.1], true, 1));
        Assert.Equal(-2 - 2 * Math.Sqrt(2) * 0.6, small.Difference.Low, 12);
    }

    [Fact]
    public void Arms_without_seeds_in_common_are_compared_by_their_seed_means()
    {
        var e = EndQuality.Estimate(new Dictionary<int, double> { [0] = 20, [1] = 22 }, new Dictionary<int, double> { [5] = 18 }, Floor);
        Assert.Equal(-3, e.Difference.Estimate, 12);
        Assert.Equal(1, e.Seeds);
    }
}
