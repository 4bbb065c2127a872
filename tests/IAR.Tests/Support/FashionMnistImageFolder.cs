using IAR.Host.Data;
using SkiaSharp;

namespace IAR.Tests.Support;

/// <summary>
/// A tiny image folder cut from the bundled Fashion-MNIST subset, for what reads image folders end to end:
/// <c>train/class-k/NN.png</c> and <c>val/class-k/NN.png</c>, the first images of each of the first classes in file
/// order, 28x28 grey stored as RGB with r = g = b (so the one-channel luma is the pixel itself). Class folders sort in
/// class order, so image i of train/ has label i / perClass.
/// </summary>
internal static class FashionMnistImageFolder
{
    public static string Write(string root, int classes, int perClass, int heldOutPerClass)
    {
        var subset = Path.Combine(RepoPaths.Experiments, "data", "fashion-mnist-subset");
        WriteSplit(Path.Combine(root, "train"), Path.Combine(subset, "train-images-idx3-ubyte.gz"), Path.Combine(subset, "train-labels-idx1-ubyte.gz"), classes, perClass);
        WriteSplit(Path.Combine(root, "val"), Path.Combine(subset, "t10k-images-idx3-ubyte.gz"), Path.Combine(subset, "t10k-labels-idx1-ubyte.gz"), classes, heldOutPerClass);
        return root;
    }

    static void WriteSplit(string folder, string imagesFile, string labelsFile, int classes, int perClass)
    {
        var images = IdxFile.Read(imagesFile);
        var labels = IdxFile.Read(labelsFile);
        int side = images.Dimensions[1];
        var written = new int[classes];
        for (int i = 0; i < labels.Count && written.Any(n => n < perClass); i++)
        {
            int label = labels.Data[i];
            if (label >= classes || written[label] == perClass) continue;
            using var bitmap = new SKBitmap(side, side, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    byte v = images.Data[i * images.ItemSize + y * side + x];
                    bitmap.SetPixel(x, y, new SKColor(v, v, v));
                }
            var path = Path.Combine(folder, $"class-{label}", $"{written[label]++:D2}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, png.ToArray());
        }
    }
}
