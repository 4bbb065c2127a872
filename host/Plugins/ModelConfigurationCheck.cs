using IAR.Host.Configuration;
using IAR.Abstractions;
using IAR.Host.Experiments;
using TorchSharp;

namespace IAR.Host.Plugins;

/// <summary>
/// Builds the tokenizer and every arm's generator on the meta device (shapes, no weights, no random draws) before
/// anything trains, so an option the model cannot be built with (<c>n_head</c> not dividing <c>dim</c>) is reported
/// by <c>iar validate</c> and the run's preflight, not after the tokenizer has trained. The null class is one
/// concept: the generator declares it (<see cref="GeneratorInfo.SupportsGuidance"/>), <c>training.label_drop</c> alone
/// sets how often labels are dropped, and an arm that drops labels for a generator without one is refused here.
/// <para>
/// Only <see cref="ConfigurationException"/>s are reported: a plugin's other errors on the meta device (an operation
/// meta tensors lack) say nothing about the configuration, and the real build reports them. Unknown plugins, presets
/// and option names are <see cref="PluginReferenceCheck"/>'s. The data's class count is not known before loading,
/// so generators are built for one class; no option's validity depends on it.
/// </para>
/// </summary>
public static class ModelConfigurationCheck
{
    public static IReadOnlyList<ConfigError> Check(Experiment experiment, PluginCatalog catalog)
    {
        var spec = experiment.Spec;
        var errors = new List<ConfigError>();
        var previous = torch.get_default_device();
        torch.set_default_device(torch.META);
        try
        {
            var tokenizer = Build("tokenizer.options", errors, experiment, () => ArmModels.Tokenizer(spec, catalog));
            if (tokenizer is null) return errors;
            foreach (var arm in experiment.Arms)
            {
                var g = arm.Spec.Generator;
                var generator = Build($"{experiment.KeyOf(arm, "generator")}.options", errors, experiment, () =>
                    ArmModels.Generator(arm.Spec, tokenizer, 1, catalog));
                if (generator is { Info.SupportsGuidance: false } && arm.Spec.Training.LabelDrop > 0)
                    errors.Add(experiment.Locator.ErrorAt($"{experiment.KeyOf(arm, "training")}.label_drop",
                        $"training.label_drop = {arm.Spec.Training.LabelDrop} drops class labels, but {g.Plugin}/{g.Preset} with these options has no null class to replace them with; " +
                        "set training.label_drop: 0, or choose generator options that build a null class (the rate of dropped labels is training.label_drop alone)."));
                generator?.Module.Dispose();
            }
            tokenizer.Module.Dispose();
            return errors.Distinct().ToArray();
        }
        finally
        {
            torch.set_default_device(previous);
        }
    }

    static T? Build<T>(string key, List<ConfigError> errors, Experiment experiment, Func<T> build) where T : class
    {
        try
        {
            return build();
        }
        catch (ConfigurationException e)
        {
            errors.Add(experiment.Locator.ErrorAt(key, e.Message));
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }
}
