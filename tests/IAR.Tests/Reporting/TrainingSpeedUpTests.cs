using IAR.Host.Reporting;

namespace IAR.Tests.Reporting;

public class TrainingSpeedUpTests
{
    [Fact]
    public void Interpolates_the_first_crossing_between_the_evaluations_around_it()
    {
        // 50 → 30 between steps 100 and 200; 40 is half way
        Assert.Equal(150.0, TrainingSpeedUp.StepsToReach([(0, 80), (100, 50), (200, 30), (300, 20)], 40)!.Value, 9);
        // the first crossing counts even if the curve goes back up
        Assert.Equal(125.0, TrainingSpeedUp.StepsToReach([(0, 80), (100, 50), (200, 10), (300, 60), (400, 5)], 40)!.Value, 9);
    }

    [Fact]
    public void An_exact_hit_is_that_step_and_a_curve_starting_below_the_target_gives_its_first_step()
    {
        Assert.Equal(200.0, TrainingSpeedUp.StepsToReach([(100, 50), (200, 40), (300, 30)], 40)!.Value, 9);
        Assert.Equal(100.0, TrainingSpeedUp.StepsToReach([(100, 35), (200, 30)], 40)!.Value, 9);
    }

    [Fact]
    public void A_curve_that_never_reaches_the_target_is_not_reached()
    {
        Assert.Null(TrainingSpeedUp.StepsToReach([(0, 90), (100, 60), (200, 41)], 40));
        Assert.Null(TrainingSpeedUp.StepsToReach([], 40));
        Assert.Null(TrainingSpeedUp.Factor(400, null));
        Assert.Equal(2.0, TrainingSpeedUp.Factor(400, 200)!.Value, 12);
    }
}
