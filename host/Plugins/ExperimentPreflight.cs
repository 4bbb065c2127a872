using IAR.Host.Evaluation;
using IAR.Host.Experiments;

namespace IAR.Host.Plugins;

/// <summary>
/// Everything checked before a run starts (and by <c>iar validate</c>), reported all at once: plugins, presets and
/// options exist; the tokenizer and every arm's generator can be built with their options (on the meta device); IAR
/// settings fit the tokenizer's vocabulary; evaluation settings can be met. An option error found by both the
/// reference check and the build is reported once.
/// </summary>
public static class ExperimentPreflight
{
    public static IReadOnlyList<ConfigError> Check(Experiment experiment, PluginCatalog catalog) =>
        new[]
        {
            PluginReferenceCheck.Check(experiment, catalog), ModelConfigurationCheck.Check(experiment, catalog),
            IarSettingsCheck.Check(experiment, catalog), EvaluationValidation.Check(experiment),
        }.SelectMany(e => e).Distinct().ToArray();
}
