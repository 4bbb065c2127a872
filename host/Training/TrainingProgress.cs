using IAR.Host.Runs;
using IAR.Host.Experiments;
using Spectre.Console;

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

/// <summary>No display (tests, benchmarks).</summary>
internal sealed class SilentTrainingProgress : TrainingProgress
{
    public override void Run(long startStep, Action loop) => loop();

    public override void Step(long step) { }

    public override void Line(string line, string summary) { }
}

/// <summary>One line per log step on the console and in run.log (output redirected to a file or pipe).</summary>
internal sealed class PlainTrainingProgress(RunLog log) : TrainingProgress
{
    public override void Run(long startStep, Action loop) => loop();

    public override void Step(long step) { }

    public override void Line(string line, string summary) => log.Info(line);
}

/// <summary>A Spectre.Console progress bar with loss, it/s and ETA; the periodic lines go to run.log only.</summary>
internal sealed class LiveTrainingProgress(RunLog log, string label, long totalSteps) : TrainingProgress
{
    ProgressTask? task;

    public override void Run(long startStep, Action loop) =>
        log.Console.Out.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                task = context.AddTask(Markup.Escape(label), autoStart: true, maxValue: totalSteps);
                task.Value = startStep;
                loop();
                task.Value = totalSteps;
            });

    public override void Step(long step)
    {
        if (task is not null) task.Value = step;
    }

    public override void Line(string line, string summary)
    {
        log.FileOnly(line);
        if (task is not null) task.Description = Markup.Escape($"{label} {summary}");
    }
}
