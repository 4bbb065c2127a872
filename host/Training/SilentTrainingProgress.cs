namespace IAR.Host.Training;

/// <summary>No display (tests, benchmarks).</summary>
internal sealed class SilentTrainingProgress : TrainingProgress
{
    public override void Run(long startStep, Action loop) => loop();

    public override void Step(long step) { }

    public override void Line(string line, string summary) { }
}
