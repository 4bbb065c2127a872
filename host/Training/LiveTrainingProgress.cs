using IAR.Host.Experiments;
using Spectre.Console;

namespace IAR.Host.Training;

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
