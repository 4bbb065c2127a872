using IAR.Host.Training;
using IAR.Host.Training.Stages;

namespace IAR.Host.Experiments;

/// <summary>The stages <c>iar run</c> executes, in order. Each issue that adds a stage adds it here.</summary>
public static class RunPipeline
{
    public static IReadOnlyList<IRunStage> Stages(Experiment experiment) =>
    [
        new DataStage(),
        new TokenizerStage(),
        new TokenCacheStage(),
        // IAR plugs in here: an IGeneratorJobFactory that rearranges arms with iar.enabled, and an evaluation hook.
        new GeneratorTrainingStage(new BaselineGeneratorJobFactory(), evaluation: null),
    ];
}
