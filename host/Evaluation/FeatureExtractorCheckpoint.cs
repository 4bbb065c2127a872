using IAR.Abstractions;
using IAR.Host.Serialization;

namespace IAR.Host.Evaluation;

/// <summary>
/// Opens a user-supplied feature-extractor checkpoint (<c>evaluation.feature_extractor</c>): tells its kind and
/// feature dimension from the header alone (for up-front validation) and loads the extractor it holds.
/// </summary>
public static class FeatureExtractorCheckpoint
{
    /// <summary>The kind of Inception-v3 weights (pytorch-fid / torchvision key names), recognised but not yet implemented.</summary>
    public const string InceptionV3 = "inception-v3";

    /// <summary>The kind recorded in the metadata, else guessed from the key names, else "unknown".</summary>
    public static string KindOf(SafeTensorsFile file)
    {
        if (file.Metadata.TryGetValue(ClassifierFeatureExtractor.KindKey, out var kind)) return kind;
        return file.Entries.Any(e => e.Name.Contains("Mixed_7c", StringComparison.Ordinal)) ? InceptionV3 : "unknown";
    }

    /// <summary>
    /// The feature dimension of the extractor in <paramref name="path"/>, read from its header, checking that this
    /// version can use it. <paramref name="key"/> names the configuration key for messages.
    /// </summary>
    /// <exception cref="ConfigurationException">The file is missing, unreadable, or of a kind this version cannot use.</exception>
    public static int FeatureDimension(string path, string key = "evaluation.feature_extractor")
    {
        SafeTensorsFile file;
        try
        {
            file = SafeTensorsFile.Open(path);
        }
        catch (FileNotFoundException)
        {
            throw new ConfigurationException(
                $"{key}: '{path}' does not exist; give a feature-extractor safetensors file written by iar (small-cnn), or null to train the small classifier on the training set.");
        }
        catch (InvalidDataException e)
        {
            throw new ConfigurationException($"{key}: '{path}' is not a readable safetensors file ({e.Message}).");
        }
        var kind = KindOf(file);
        if (kind == InceptionV3)
            throw new ConfigurationException(
                $"{key}: '{path}' holds Inception-v3 weights, which this version recognises but cannot run yet; use null (the small classifier) and score the exported samples.npz with the ADM evaluator for Inception-based FID.");
        if (kind != ClassifierFeatureExtractor.Kind)
            throw new ConfigurationException(
                $"{key}: '{path}' is not a feature extractor iar knows (metadata {ClassifierFeatureExtractor.KindKey} = '{kind}'); accepted: '{ClassifierFeatureExtractor.Kind}' checkpoints written by iar.");
        var head = file.Entries.FirstOrDefault(e => e.Name == "head.weight")
                   ?? throw new ConfigurationException($"{key}: '{path}' has no tensor 'head.weight'; it is not a complete small-CNN extractor checkpoint.");
        return (int)head.Shape[1];
    }

    /// <summary>Loads the extractor in <paramref name="path"/> (validated as in <see cref="FeatureDimension"/>).</summary>
    public static IFeatureExtractor Load(string path, string key = "evaluation.feature_extractor")
    {
        _ = FeatureDimension(path, key);
        return ClassifierFeatureExtractor.Load(path);
    }
}
