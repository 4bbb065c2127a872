using IAR.Host.Serialization;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>A PNG of images tiled in a grid (row-major, 2-pixel white gaps by default), optionally scaled up so small images are visible.</summary>
public static class SampleGrid
{
    const int DefaultGap = 2;

    /// <summary>Writes the grid atomically.</summary>
    /// <param name="images">float [N, C, H, W] in [-1, 1], C = 1 or 3.</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="scale">Integer upscaling of each pixel (nearest neighbour).</param>
    /// <param name="gap">White pixels around and between images (0 for a single image's own PNG).</param>
    public static void Write(string path, Tensor images, int columns, int scale = 2, int gap = DefaultGap)
    {
        var png = Encode(images, columns, scale, gap);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary><see cref="Write"/> of images already in pixels: uint8 [N, H, W, 3] (<see cref="AdmSampleArchive.ToNhwcRgbTensor"/>).</summary>
    public static void WriteRgb(string path, Tensor pixels, int columns, int scale = 2, int gap = DefaultGap)
    {
        using var contiguous = pixels.cpu().contiguous();
        var png = EncodeRgb(contiguous.bytes.ToArray(), contiguous.shape, columns, scale, gap);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>The PNG bytes of the grid.</summary>
    public static byte[] Encode(Tensor images, int columns, int scale = 2, int gap = DefaultGap)
    {
        var (pixels, shape) = AdmSampleArchive.ToNhwcRgb(images);                 // [N, H, W, 3]
        return EncodeRgb(pixels, shape, columns, scale, gap);
    }

    /// <param name="pixels">uint8 NHWC RGB bytes of <paramref name="shape"/> [N, H, W, 3].</param>
    static byte[] EncodeRgb(byte[] pixels, long[] shape, int columns, int scale, int gap)
    {
        if (gap < 0) throw new ArgumentOutOfRangeException(nameof(gap), gap, "gap must be ≥ 0");
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be ≥ 1");
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be ≥ 1");
        int n = (int)shape[0], h = (int)shape[1], w = (int)shape[2];
        if (n == 0) throw new ArgumentException("A sample grid needs at least one image.", nameof(pixels));
        int cols = Math.Min(columns, n), rows = (n + cols - 1) / cols;
        int cellW = w * scale, cellH = h * scale;
        int width = cols * cellW + (cols + 1) * gap, height = rows * cellH + (rows + 1) * gap;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var canvas = new byte[width * height * 4];
        Array.Fill(canvas, (byte)255);                                           // white gaps
        for (int i = 0; i < n; i++)
        {
            int left = gap + (i % cols) * (cellW + gap), top = gap + (i / cols) * (cellH + gap);
            for (int y = 0; y < cellH; y++)
            for (int x = 0; x < cellW; x++)
            {
                int source = ((i * h + y / scale) * w + x / scale) * 3;
                int target = ((top + y) * width + left + x) * 4;
                canvas[target] = pixels[source];
                canvas[target + 1] = pixels[source + 1];
                canvas[target + 2] = pixels[source + 2];
            }
        }
        System.Runtime.InteropServices.Marshal.Copy(canvas, 0, bitmap.GetPixels(), canvas.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
