using IAR.Host.Configuration;
using IAR.Abstractions;
using IAR.Host.Experiments;

namespace IAR.Host.Evaluation;

/// <summary>
/// Checks an experiment's evaluation settings before anything is trained: the feature-extractor checkpoint exists
/// and is usable, every arm samples enough images for its metrics, and all arms are scored by the same extractor.
/// Unknown keys and metric names are already rejected by <see cref="ExperimentLoader"/>.
/// </summary>
public static class EvaluationValidation
{
    /// <summary>Every problem found, located in the experiment file; empty when the evaluation can run.</summary>
    public static IReadOnlyList<ConfigError> Check(Experiment experiment)
    {
        var errors = new List<ConfigError>();
        var dimensions = new Dictionary<string, int?>(StringComparer.Ordinal);   // checkpoint path → D (null: unusable)
        var baseSpec = experiment.Spec.Evaluation;
        foreach (var arm in experiment.Arms)
        {
            var spec = arm.Spec.Evaluation;
            var key = experiment.KeyOf(arm, "evaluation");
            bool imageMetrics = spec.Metrics.Any(m => m != ImageMetric.TokenMetrics);
            if (!imageMetrics) continue;

            if (spec.FeatureExtractor != baseSpec.FeatureExtractor || spec.FeatureExtractorSteps != baseSpec.FeatureExtractorSteps)
            {
                errors.Add(experiment.Locator.ErrorAt($"{key}.feature_extractor",
                    $"arm '{arm.Name}' sets its own feature extractor; all arms are scored by one extractor so that their FIDs compare — set evaluation.feature_extractor and feature_extractor_steps once, outside arms."));
                continue;
            }

            int? dimension;
            if (spec.FeatureExtractor is { } path)
            {
                if (!dimensions.TryGetValue(path, out dimension))
                {
                    try
                    {
                        dimension = FeatureExtractorCheckpoint.FeatureDimension(path, $"{key}.feature_extractor");
                    }
                    catch (ConfigurationException e)
                    {
                        errors.Add(experiment.Locator.ErrorAt($"{key}.feature_extractor", e.Message));
                        dimension = null;
                    }
                    dimensions[path] = dimension;
                }
            }
            else
            {
                dimension = new FeatureExtractorTrainingOptions(spec.FeatureExtractorSteps).FeatureDimension;
                if (spec.FeatureExtractorSteps == 0)
                    errors.Add(experiment.Locator.ErrorAt($"{key}.feature_extractor_steps",
                        $"{key}.feature_extractor_steps = 0 would score images with an untrained classifier; give at least 1 (default 1500) or a trained evaluation.feature_extractor."));
            }
            if (dimension is not int d) continue;
            int needed = EvaluationRequirements.MinimumSamples(spec.Metrics, d, spec.PrecisionRecallK);
            if (spec.NumSamples < needed)
            {
                var reasons = string.Join(" ", EvaluationRequirements.SampleCountProblems(spec.Metrics, spec.NumSamples, d, spec.PrecisionRecallK));
                errors.Add(experiment.Locator.ErrorAt($"{key}.num_samples",
                    $"{key}.num_samples = {spec.NumSamples} is too few: at least {needed} are needed. {reasons}"));
            }
        }
        return errors.Distinct().ToArray();
    }

    /// <summary>Throws <see cref="ConfigValidationException"/> with every problem of <see cref="Check"/>.</summary>
    public static void ThrowIfInvalid(Experiment experiment)
    {
        var errors = Check(experiment);
        if (errors.Count > 0) throw new ConfigValidationException(errors);
    }
}
