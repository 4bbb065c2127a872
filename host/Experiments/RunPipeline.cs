using IAR.Host.Evaluation;
using IAR.Host.Reporting;
using IAR.Host.Training;
using IAR.Host.Training.Stages;

namespace IAR.Host.Experiments;

/// <summary>
/// The stages <c>iar run</c> executes, in order. <paramref name="experiment"/> is the whole experiment; the run context
/// may hold a selection of its arms (<c>--arms</c>), and the report still covers every arm the run directory has.
/// </summary>
public static class RunPipeline
{
    public static IReadOnlyList<IRunStage> Stages(Experiment experiment) =>
    [
        new DataStage(),
        new TokenizerStage(),
        new TokenCacheStage(),
        new EvaluationSetupStage(),
        new GeneratorTrainingStage(new IarGeneratorJobFactory(), new GeneratorEvaluationHook()),
        new ReportStage(experiment),
    ];
}
