using IAR.Host.Evaluation;
using IAR.Host.Experiments;

namespace IAR.Host.Plugins;

/// <summary>
/// Everything checked before a run starts (and by <c>iar validate</c>), reported all at once: plugins, presets and
/// options exist; IAR settings fit the tokenizer's vocabulary; evaluation settings can be met.
/// </summary>
public static class ExperimentPreflight
{
    public static IReadOnlyList<ConfigError> Check(Experiment experiment, PluginCatalog catalog) =>
        [.. PluginReferenceCheck.Check(experiment, catalog), .. IarSettingsCheck.Check(experiment, catalog), .. EvaluationValidation.Check(experiment)];
}
