using IAR.Host.Configuration;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Experiments;

namespace IAR.Host.Plugins;

/// <summary>
/// Checks every arm's <c>iar</c> section against the tokenizer's vocabulary before anything trains: the cluster size
/// or count must divide V, and a given permutation file must rearrange exactly V codes; so must the top-level settings,
/// which define the reference clusters of the cluster-accuracy metrics. The vocabulary comes from
/// building the tokenizer the experiment names (fresh weights; a few hundred milliseconds even for VQ-16).
/// </summary>
public static class IarSettingsCheck
{
    public static IReadOnlyList<ConfigError> Check(Experiment experiment, PluginCatalog catalog)
    {
        var enabled = experiment.Arms.Where(a => a.Spec.Iar.Enabled).ToArray();
        if (enabled.Length == 0) return [];
        int vocabulary;
        try
        {
            vocabulary = VocabularySize(experiment.Spec, catalog);
        }
        catch (ConfigurationException)
        {
            return [];   // the tokenizer itself is misconfigured: PluginReferenceCheck reports that
        }
        var errors = new List<ConfigError>();
        var reference = experiment.Spec.Iar;
        try
        {
            ClusterSizes.Resolve(vocabulary, reference.ClusterSize, reference.Clusters);
        }
        catch (ConfigurationException e)
        {
            errors.Add(experiment.Locator.ErrorAt(reference.Clusters is not null ? "iar.clusters" : "iar.cluster_size",
                $"{e.Message} The top-level iar settings define the reference clusters that every arm's cluster accuracy is measured against (tokenizer V = {vocabulary})."));
        }
        foreach (var arm in enabled)
        {
            var iar = arm.Spec.Iar;
            var key = experiment.KeyOf(arm, "iar");
            try
            {
                if (iar.Permutation is { } file)
                    CodebookPermutation.Load(file, vocabulary);
                else
                    ClusterSizes.Resolve(vocabulary, iar.ClusterSize, iar.Clusters, $"{key}.cluster_size", $"{key}.clusters");
            }
            catch (Exception e) when (e is ConfigurationException or InvalidDataException or IOException)
            {
                var at = iar.Permutation is not null ? "permutation" : iar.Clusters is not null ? "clusters" : "cluster_size";
                errors.Add(experiment.Locator.ErrorAt($"{key}.{at}", $"{e.Message} (tokenizer {experiment.Spec.Tokenizer.Plugin}/{experiment.Spec.Tokenizer.Preset} has V = {vocabulary})"));
            }
        }
        return errors.Distinct().ToArray();
    }

    static int VocabularySize(ExperimentSpec spec, PluginCatalog catalog)
    {
        var tokenizer = ArmModels.Tokenizer(spec, catalog);
        int size = tokenizer.Info.VocabularySize;
        tokenizer.Module.Dispose();
        return size;
    }
}
