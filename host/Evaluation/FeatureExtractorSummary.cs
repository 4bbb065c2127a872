using System.Text.Json;
using IAR.Host.Serialization;

namespace IAR.Host.Evaluation;

/// <summary>What the report says about the feature extractor: written once per run by the evaluation.</summary>
/// <param name="Description">One line, e.g. "small CNN (128-d features, …, test accuracy 91.0 % on 10000 images)".</param>
/// <param name="FeatureDimension">D.</param>
/// <param name="NumClasses">K.</param>
/// <param name="TestAccuracy">Top-1 accuracy on the held-out split, null when not measured.</param>
/// <param name="ReferenceImages">Number of real images the reference statistics come from.</param>
/// <param name="RealInceptionScore">Inception Score of the real held-out images: the ceiling generated samples approach.</param>
public sealed record FeatureExtractorSummary(
    string Description, int FeatureDimension, int NumClasses, double? TestAccuracy, long ReferenceImages, double? RealInceptionScore)
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson());

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>The summary in <paramref name="path"/>, or null when the file does not exist.</summary>
    /// <exception cref="InvalidDataException">The file is not a summary.</exception>
    public static FeatureExtractorSummary? Read(string path) => File.Exists(path) ? FromJson(File.ReadAllText(path), path) : null;

    /// <param name="source">Where <paramref name="json"/> comes from, for the error.</param>
    /// <exception cref="InvalidDataException">The text is not a summary.</exception>
    public static FeatureExtractorSummary FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<FeatureExtractorSummary>(json, Options)
                   ?? throw new InvalidDataException($"{source} is empty; a feature-extractor summary was expected.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not a feature-extractor summary ({e.Message}).", e);
        }
    }
}
