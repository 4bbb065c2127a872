using System.Text.Json;

namespace IAR.Host.Evaluation;

/// <summary>The shape of <see cref="SmallCnnClassifier"/>; stored in its checkpoint's metadata.</summary>
/// <param name="Channels">Input channels (1 for Fashion-MNIST).</param>
/// <param name="ImageSize">Square input size it is trained on; other sizes are resized to it.</param>
/// <param name="NumClasses">Output classes.</param>
/// <param name="Width">Channels of the first stage; the stages have w, 2w, 4w and the feature vector 4w.</param>
public sealed record SmallCnnConfig(int Channels, int ImageSize, int NumClasses, int Width = 32)
{
    /// <summary>The feature vector has this many dimensions per unit of <see cref="Width"/> (the last stage's 4w channels).</summary>
    public const int FeaturesPerWidth = 4;

    public int FeatureDimension => FeaturesPerWidth * Width;

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <exception cref="InvalidDataException">Not a config written by <see cref="ToJson"/>.</exception>
    public static SmallCnnConfig FromJson(string json, string source)
    {
        SmallCnnConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<SmallCnnConfig>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: the small-CNN config in its metadata is not valid JSON ({e.Message}).", e);
        }
        if (config is null || config.Channels < 1 || config.ImageSize < 4 || config.NumClasses < 2 || config.Width < 1)
            throw new InvalidDataException($"{source}: the small-CNN config in its metadata is incomplete or out of range: {json}");
        return config;
    }
}
