using IAR.Host.Configuration;
using IAR.Abstractions;
using IAR.Host.Experiments;
using TorchSharp;

namespace IAR.Host.Plugins;

/// <summary>
/// A pretrained generator (<c>generator.checkpoint</c>) in an arm with <c>iar</c> enabled has its vocabulary tensors
/// rearranged into the arm's codebook order, which works only when its plugin declares every tensor indexed by token
/// (<see cref="VocabularyParameterCheck"/>). Whether it does is a property of the plugin, preset and options, not of the
/// checkpoint's values, so <c>iar validate</c> and the run's preflight check it on a freshly built, perturbed generator
/// (a zero-initialised head would hide a missing declaration) before any data is prepared; the job checks the loaded
/// checkpoint again with <see cref="Require"/>, the same test and message.
/// </summary>
public static class PretrainedRearrangementCheck
{
    /// <summary>Refuses <paramref name="generator"/>, loaded from <paramref name="checkpoint"/>, when it cannot be rearranged.</summary>
    /// <exception cref="ConfigurationException">Permuting its declared vocabulary tensors does not permute its logits.</exception>
    public static void Require(IGenerator generator, string checkpoint, int vocabularySize)
    {
        if (VocabularyParameterCheck.Problem(generator, vocabularySize) is { } problem)
            throw new ConfigurationException(Refusal(checkpoint, problem));
    }

    public static IReadOnlyList<ConfigError> Check(Experiment experiment, PluginCatalog catalog)
    {
        var pretrained = experiment.Arms.Where(a => a.Spec.Iar.Enabled && a.Spec.Generator.Checkpoint is not null).ToArray();
        if (pretrained.Length == 0) return [];
        var spec = experiment.Spec;
        var errors = new List<ConfigError>();
        ITokenizer tokenizer;
        try
        {
            torch.manual_seed(0);
            tokenizer = ArmModels.Tokenizer(spec, catalog);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return [];   // the tokenizer's configuration is ModelConfigurationCheck's to report
        }
        try
        {
            foreach (var arm in pretrained)
            {
                var g = arm.Spec.Generator;
                IGenerator generator;
                try
                {
                    torch.manual_seed(0);
                    // two classes: labels 0 and 1 exist whatever the data (their count is known only after loading)
                    generator = ArmModels.Generator(arm.Spec, tokenizer, 2, catalog);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    continue;   // ModelConfigurationCheck reports options the model cannot be built with
                }
                using (generator.Module)
                {
                    VocabularyParameterCheck.Perturb(generator.Module, seed: 31);
                    if (VocabularyParameterCheck.Problem(generator, tokenizer.Info.VocabularySize) is { } problem)
                        errors.Add(experiment.Locator.ErrorAt($"{experiment.KeyOf(arm, "generator")}.checkpoint", Refusal(g.Checkpoint!, problem)));
                }
            }
        }
        finally
        {
            tokenizer.Module.Dispose();
        }
        return errors.Distinct().ToArray();
    }

    static string Refusal(string checkpoint, string problem) =>
        $"generator.checkpoint {checkpoint} cannot be rearranged for iar: {problem} Fix the plugin, or train this arm with iar.enabled: false.";
}
