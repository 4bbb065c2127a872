using IAR.Host.Configuration;
using IAR.Abstractions;
using IAR.Host.Experiments;

namespace IAR.Host.Plugins;

/// <summary>Checks that every plugin, preset, option and extra loss term an experiment names exists, before anything runs.</summary>
public static class PluginReferenceCheck
{
    public static IReadOnlyList<ConfigError> Check(Experiment experiment, PluginCatalog catalog)
    {
        var errors = new List<ConfigError>();
        var spec = experiment.Spec;
        CheckModel(experiment, "tokenizer", spec.Tokenizer.Plugin, spec.Tokenizer.Preset, spec.Tokenizer.Options,
            () => catalog.TokenizerFactory(spec.Tokenizer.Plugin, spec.Tokenizer.Preset), errors);
        foreach (var arm in experiment.Arms)
        {
            var g = arm.Spec.Generator;
            CheckModel(experiment, experiment.KeyOf(arm, "generator"), g.Plugin, g.Preset, g.Options,
                () => catalog.GeneratorFactory(g.Plugin, g.Preset), errors);
            foreach (var name in arm.Spec.Training.Loss.Keys)
            {
                try
                {
                    catalog.LossTerms.Create(name);
                }
                catch (ConfigurationException e)
                {
                    errors.Add(experiment.Locator.ErrorAt($"{experiment.KeyOf(arm, "training")}.loss.{name}", e.Message));
                }
            }
        }
        return errors.Distinct().ToArray();
    }

    static void CheckModel(Experiment experiment, string key, string plugin, string preset,
        IReadOnlyDictionary<string, string> options, Func<IModelFactory> resolve, List<ConfigError> errors)
    {
        IModelFactory factory;
        try
        {
            factory = resolve();
        }
        catch (ConfigurationException e)
        {
            var where = e.Message.StartsWith("Unknown plugin", StringComparison.Ordinal) ? "plugin" : "preset";
            errors.Add(experiment.Locator.ErrorAt($"{key}.{where}", e.Message));
            return;
        }
        var presetOptions = factory.Presets.First(p => p.Name == preset).Options;
        try
        {
            PresetOptions.Apply(presetOptions, options, $"{key}.options");
        }
        catch (ConfigurationException e)
        {
            errors.Add(experiment.Locator.ErrorAt($"{key}.options", e.Message));
        }
    }
}
