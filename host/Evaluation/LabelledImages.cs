using IAR.Host.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Images with class labels, the input of every image metric: float32 [N, C, H, W] in [-1, 1] and int64 [N].
/// Owns both tensors.
/// </summary>
public sealed class LabelledImages : IDisposable
{
    /// <exception cref="ArgumentException">Shapes or dtypes do not match the description above.</exception>
    public LabelledImages(Tensor images, Tensor labels)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be [N, C, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"Labels must be [N] with N = {images.shape[0]}; got [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Labels must be int64; got {labels.dtype}.", nameof(labels));
        Images = images;
        Labels = labels;
    }

    /// <summary>float32 [N, C, H, W] in [-1, 1].</summary>
    public Tensor Images { get; }

    /// <summary>int64 [N].</summary>
    public Tensor Labels { get; }

    public long Count => Images.shape[0];

    /// <summary>Every image of <paramref name="images"/> with its label (copies).</summary>
    public static LabelledImages All(ImageDataset images)
    {
        using var all = torch.arange((long)images.Count);
        return new LabelledImages(images.Images(all), images.Labels.clone());
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
