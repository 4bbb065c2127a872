using IAR.Host.Experiments;

namespace IAR.Host.Training;

/// <summary>One line per log step on the console and in run.log (output redirected to a file or pipe).</summary>
internal sealed class PlainTrainingProgress(RunLog log) : TrainingProgress
{
    public override void Run(long startStep, Action loop) => loop();

    public override void Step(long step) { }

    public override void Line(string line, string summary) => log.Info(line);
}
