using IAR.Host.Experiments;

namespace IAR.Host.Training;

/// <summary>
/// How a training loop shows itself: a live progress bar (loss, it/s, ETA) when a person watches a terminal,
/// plain periodic lines when output goes to a file or pipe, nothing at all for tests and benchmarks. Periodic lines
/// always go to run.log.
/// </summary>
public abstract class TrainingProgress
{
    /// <summary>The display for <paramref name="log"/>'s console; silent when <paramref name="log"/> is null.</summary>
    public static TrainingProgress For(RunLog? log, string label, long totalSteps) =>
        log is null ? new SilentTrainingProgress()
        : log.Console.IsInteractive ? new LiveTrainingProgress(log, label, totalSteps)
        : new PlainTrainingProgress(log);

    /// <summary>Runs the training loop <paramref name="loop"/> inside the display, starting at <paramref name="startStep"/>.</summary>
    public abstract void Run(long startStep, Action loop);

    /// <summary>Called after every step.</summary>
    public abstract void Step(long step);

    /// <summary>Called at every log step with one line: step, losses, rate.</summary>
    /// <param name="summary">A short form for the bar, e.g. <c>loss 2.31 · 41.0 it/s</c>.</param>
    public abstract void Line(string line, string summary);
}
