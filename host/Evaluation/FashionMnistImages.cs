using IAR.Host.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Reads a Fashion-MNIST split (IDX files) into <see cref="LabelledImages"/>: 28×28 grey bytes → [-1, 1], padded
/// with the background value −1 to <c>imageSize</c> (resized when smaller than 28), grey repeated when 3 channels
/// are asked for. A small adapter for the evaluation's real-image reference; the training pipeline has its own data layer.
/// </summary>
public static class FashionMnistImages
{
    /// <param name="folder">Folder of the IDX files (see <see cref="FashionMnist.Locate"/>).</param>
    /// <param name="split"><c>train</c> or <c>t10k</c>.</param>
    /// <param name="limit">Keep the first <c>limit</c> images (0 = all).</param>
    public static LabelledImages Load(string folder, string split, int imageSize = 32, int channels = 1, int limit = 0)
    {
        var images = IdxFile.Read(Path.Combine(folder, FashionMnist.FileName(split, images: true)));
        var labels = IdxFile.Read(Path.Combine(folder, FashionMnist.FileName(split, images: false)));
        if (images.Dimensions.Count != 3 || labels.Count != images.Count)
            throw new InvalidDataException(
                $"{folder}: the {split} images ({string.Join("x", images.Dimensions)}) and labels ({labels.Count}) do not form a labelled image set.");
        int n = limit > 0 ? Math.Min(limit, images.Count) : images.Count;
        int height = images.Dimensions[1], width = images.Dimensions[2];
        using var scope = torch.NewDisposeScope();
        var pixels = torch.tensor(images.Data.AsSpan(0, n * height * width).ToArray(), [n, 1, height, width], ScalarType.Byte);
        var x = pixels.to(ScalarType.Float32) / 127.5f - 1f;                            // [N, 1, 28, 28]
        x = Resize(x, imageSize);
        if (channels == 3) x = x.expand(-1, 3, -1, -1).contiguous();
        else if (channels != 1) throw new ArgumentException($"channels = {channels}; 1 or 3 is accepted.", nameof(channels));
        var y = torch.tensor(labels.Data.AsSpan(0, n).ToArray(), [n], ScalarType.Byte).to(ScalarType.Int64);
        return new LabelledImages(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    /// <summary>Pads (centred, value −1) to a larger square size, bilinear-resizes to a smaller one.</summary>
    static Tensor Resize(Tensor x, int size)
    {
        long h = x.shape[2], w = x.shape[3];
        if (h == size && w == size) return x;
        if (size >= h && size >= w)
        {
            long top = (size - h) / 2, left = (size - w) / 2;
            return nn.functional.pad(x, [left, size - w - left, top, size - h - top], PaddingModes.Constant, -1);
        }
        return nn.functional.interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
    }
}
