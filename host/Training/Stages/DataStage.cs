using IAR.Host.Data;
using IAR.Host.Experiments;

namespace IAR.Host.Training.Stages;

/// <summary>Loads the training and held-out images (<c>data:</c>); nothing is written, so resuming just loads them again.</summary>
public sealed class DataStage : IRunStage
{
    public string Name => "data";

    public void Run(RunContext context)
    {
        var splits = DatasetLoader.Load(context.Experiment.Spec.Data);
        context.Items[StageItems.Data] = splits;
        context.Log.Info($"   train: {splits.Train.Description}");
        context.Log.Info($"   held-out: {splits.Test.Description}");
        context.Log.Info($"   {splits.Train.NumClasses} classes: {string.Join(", ", splits.Train.ClassNames.Take(10))}{(splits.Train.NumClasses > 10 ? ", …" : "")}");
    }
}
