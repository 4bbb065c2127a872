using IAR.Host.Experiments;
using IAR.Host.Training.Stages;
using TorchSharp;

namespace IAR.Host.Evaluation;

/// <summary>
/// Prepares what every evaluation of the run shares, before any generator trains: the feature extractor (the
/// <c>evaluation.feature_extractor</c> checkpoint, or the small CNN trained on the run's training images once and
/// cached in <c>&lt;runs&gt;/.cache/feature-extractors</c>) and the reference features of the real training images.
/// Writes <c>evaluation/feature_extractor.json</c> for the report. Skipped when no arm asks for an image metric.
/// </summary>
public sealed class EvaluationSetupStage : IRunStage
{
    /// <summary><see cref="EvaluationResources"/> in <see cref="RunContext.Items"/>; absent when no image metric is asked for.</summary>
    public const string ResourcesItem = "evaluation.resources";

    public const string CacheFolder = ".cache/feature-extractors";

    public string Name => "evaluation setup";

    public void Run(RunContext context)
    {
        var experiment = context.Experiment;
        if (!experiment.Arms.Any(a => a.Spec.Evaluation.Metrics.Any(m => m != ImageMetric.TokenMetrics)))
        {
            context.Log.Info("   no image metrics asked for: no feature extractor needed");
            return;
        }
        var data = StageItems.DataOf(context);
        using var train = Labelled(data.Train);
        using var test = Labelled(data.Test);
        var runsRoot = Path.GetDirectoryName(Path.GetFullPath(context.Run.Path)) ?? ".";
        var resources = EvaluationResources.Prepare(experiment.Spec.Evaluation, train, test, data.Train.NumClasses,
            Path.Combine(runsRoot, CacheFolder), experiment.Spec.Seed, message => context.Log.Info("   " + message));
        resources.WriteSummary(context.Run.Path);
        context.Items[ResourcesItem] = resources;
    }

    /// <summary>The resources this stage prepared; null when the run needs none.</summary>
    public static EvaluationResources? ResourcesOf(RunContext context) =>
        context.Items.TryGetValue(ResourcesItem, out var resources) ? (EvaluationResources)resources : null;

    /// <summary>Every image of <paramref name="images"/> as float [N, C, H, W] in [-1, 1] with its labels.</summary>
    static LabelledImages Labelled(Data.ImageDataset images)
    {
        using var all = torch.arange((long)images.Count);
        return new LabelledImages(images.Images(all), images.Labels.clone());
    }
}
