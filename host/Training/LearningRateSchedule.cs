using IAR.Host.Experiments;

namespace IAR.Host.Training;

/// <summary>Linear warm-up from lr/W to lr over W steps, then constant or a cosine decay to min_lr_ratio·lr at the last step.</summary>
public sealed record LearningRateSchedule(double PeakLr, int WarmupSteps, int TotalSteps, LrSchedule Shape, double MinLrRatio)
{
    public static LearningRateSchedule From(TrainingSpec spec) =>
        new(spec.Lr, spec.WarmupSteps, spec.Steps, spec.Schedule, spec.MinLrRatio);

    /// <summary>The learning rate of the optimizer step with 0-based index <paramref name="step"/>.</summary>
    public double At(long step)
    {
        if (step < WarmupSteps) return PeakLr * (step + 1) / WarmupSteps;
        if (Shape == LrSchedule.Constant) return PeakLr;
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps - 1);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return PeakLr * (MinLrRatio + (1 - MinLrRatio) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
