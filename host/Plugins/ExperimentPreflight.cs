using IAR.Host.Configuration;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;

namespace IAR.Host.Plugins;

/// <summary>
/// Everything checked before a run starts (and by <c>iar validate</c>), reported all at once: plugins, presets and
/// options exist; the tokenizer and every arm's generator can be built with their options (on the meta device); IAR
/// settings fit the tokenizer's vocabulary; a pretrained generator of an iar arm can be rearranged; evaluation settings can
/// be met. Models are built only when every plugin,
/// preset and option they name exists: otherwise the build would report the reference check's errors again, located
/// at the YAML key even when an override set the value.
/// </summary>
public static class ExperimentPreflight
{
    public static IReadOnlyList<ConfigError> Check(Experiment experiment, PluginCatalog catalog)
    {
        var references = PluginReferenceCheck.Check(experiment, catalog).ToArray();
        return new[]
        {
            references, references.Length == 0 ? ModelConfigurationCheck.Check(experiment, catalog) : [],
            references.Length == 0 ? PretrainedRearrangementCheck.Check(experiment, catalog) : [],
            IarSettingsCheck.Check(experiment, catalog), EvaluationValidation.Check(experiment),
        }.SelectMany(e => e).Distinct().ToArray();
    }
}
