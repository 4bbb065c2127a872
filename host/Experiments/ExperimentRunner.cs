using System.Diagnostics;

namespace IAR.Host.Experiments;

/// <summary>Runs the stages of an experiment in order, recording progress in status.json.</summary>
public sealed class ExperimentRunner(IReadOnlyList<IRunStage> stages)
{
    public IReadOnlyList<IRunStage> Stages { get; } = stages;

    public void Run(RunContext context)
    {
        var total = Stopwatch.StartNew();
        foreach (var stage in Stages)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            context.Run.WriteStatus(RunState.Running, stage.Name);
            context.Log.Info($"== {stage.Name}");
            var watch = Stopwatch.StartNew();
            try
            {
                stage.Run(context);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                context.Run.WriteStatus(RunState.Failed, stage.Name, e.Message);
                context.Log.FileOnly($"stage {stage.Name} failed: {e}");
                throw;
            }
            context.Log.Info($"   {stage.Name} done in {watch.Elapsed.TotalSeconds:F1} s");
        }
        context.Run.WriteStatus(RunState.Complete);
        context.Log.Info($"run complete in {total.Elapsed.TotalSeconds:F1} s: {context.Run.Path}");
    }
}
