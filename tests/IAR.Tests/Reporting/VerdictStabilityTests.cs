using IAR.Host.Evaluation;
using IAR.Host.Reporting;

namespace IAR.Tests.Reporting;

/// <summary>
/// The verdict must not flip when nothing but noise changes: moving one evaluation's FID by less than the noise
/// floor's sd leaves both answers (speed, end quality) as they were. The curves are the quickstart's story: IAR ahead
/// early, the baseline closing the gap by the end.
/// </summary>
public class VerdictStabilityTests
{
    const double Sd = 0.3;
    const int Trials = 300;

    // draws 9.7, 10, 10.3: sd 0.3, margin 2√2·0.3 = 0.85
    static readonly NoiseFloor Floor = new(1000, 2000, 6000, [10 - Sd, 10, 10 + Sd], true, 1);

    static readonly long[] EvaluationSteps = Enumerable.Range(1, 20).Select(i => i * 100L).ToArray();

    // baseline 5 + 40·e^(−t/τ); IAR 5.2 + 40·e^(−t/(τ/1.5)): 1.5× sooner along the descent, and a plateau 0.15 above
    // the baseline's final 5.05 — inside the floor's margin, so no end-quality difference.
    static double Baseline(long step, double tau) => 5 + 40 * Math.Exp(-step / tau);

    static double Iar(long step, double tau) => 5.2 + 40 * Math.Exp(-step / (tau / 1.5));

    /// <summary>Evaluation records of both arms; seed s has τ = taus[s] (seeds learn at slightly different speeds).</summary>
    static List<MetricPoint> Records(params double[] taus) =>
        taus.SelectMany((tau, seed) => EvaluationSteps.SelectMany(step => new[]
        {
            Point("baseline", seed, step, Baseline(step, tau)),
            Point("iar", seed, step, Iar(step, tau)),
        })).ToList();

    static MetricPoint Point(string arm, int seed, long step, double fid) => new(arm, seed, step, new Dictionary<string, double> { [MetricNames.Fid] = fid });

    /// <summary>The records with one random evaluation's FID moved by a uniform amount in (−sd, sd).</summary>
    static List<MetricPoint> MoveOne(List<MetricPoint> records, Random random)
    {
        var moved = records.ToList();
        int i = random.Next(moved.Count);
        moved[i] = Point(moved[i].Arm, moved[i].Seed, moved[i].Step, moved[i].Values[MetricNames.Fid] + (2 * random.NextDouble() - 1) * Sd);
        return moved;
    }

    static (SpeedAnswer, EndQualityAnswer) Answers(List<MetricPoint> records)
    {
        var c = ArmComparison.Of(records, "iar", "baseline", Floor)!;
        return (c.SpeedAnswer, c.EndQualityAnswer);
    }

    [Theory]
    [InlineData(new double[] { 300, 280, 320 })]
    [InlineData(new double[] { 300, 250, 350, 330 })]
    public void Moving_one_evaluation_within_the_noise_floor_does_not_change_the_verdict(double[] taus)
    {
        var records = Records(taus);
        // the unmoved curves: IAR is 1.5× sooner everywhere on the descent, and ends within the noise of the baseline
        Assert.Equal((SpeedAnswer.Faster, EndQualityAnswer.NoDifferenceDetected), Answers(records));
        var random = new Random(7);
        for (int trial = 0; trial < Trials; trial++)
            Assert.Equal((SpeedAnswer.Faster, EndQualityAnswer.NoDifferenceDetected), Answers(MoveOne(records, random)));
    }

    /// <summary>
    /// The rule the verdict replaces: steps to the baseline's final FID, on its plateau. The same perturbations flip it
    /// (reached or not, speed-up above or below 1), which is what the property above guards against.
    /// </summary>
    [Fact]
    public void The_old_last_point_rule_flips_under_the_same_perturbations()
    {
        static string OldSpeed(List<MetricPoint> records)
        {
            (double, double)[] Curve(string arm) => records.Where(p => p.Arm == arm).OrderBy(p => p.Step).Select(p => ((double)p.Step, p.Values[MetricNames.Fid])).ToArray();
            double target = Curve("baseline")[^1].Item2;
            var arm = TrainingSpeedUp.StepsToReach(Curve("iar"), target);
            var baseline = TrainingSpeedUp.StepsToReach(Curve("baseline"), target)!.Value;
            return arm is double a ? (baseline / a > 1 ? "faster" : "not faster") : "not reached";
        }
        var records = Records(300);
        var random = new Random(7);
        var answers = Enumerable.Range(0, Trials).Select(_ => OldSpeed(MoveOne(records, random))).Append(OldSpeed(records)).Distinct().ToArray();
        Assert.True(answers.Length > 1, $"the last-point rule gave only '{answers[0]}'");
    }
}
