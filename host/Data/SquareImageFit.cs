using SkiaSharp;

namespace IAR.Host.Data;

/// <summary>
/// Brings an image to a square side S: a small image (both sides ≤ S) is padded with black, centred, so no pixel is
/// resampled (Fashion-MNIST 28 → 32); a larger one is centre-cropped and resized as guided-diffusion's (ADM)
/// <c>center_crop_arr</c> does, which LlamaGen and VAR use for ImageNet: halve with a 2×2 box filter while the short
/// side is at least 2S, resize bicubically so that the short side is S, then cut the centre square.
/// </summary>
public static class SquareImageFit
{
    /// <summary>Whether <see cref="Fit"/> pads (true) or crops and resizes (false).</summary>
    public static bool Pads(int height, int width, int size) => height <= size && width <= size;

    /// <param name="hwc">Pixels in row-major [H, W, C] order (C = 1 grey or 3 RGB).</param>
    /// <returns>[C, S, S] bytes.</returns>
    public static byte[] Fit(ReadOnlySpan<byte> hwc, int height, int width, int channels, int size)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"Images have 1 or 3 channels, not {channels}.", nameof(channels));
        if (hwc.Length != height * width * channels)
            throw new ArgumentException($"{hwc.Length} bytes do not hold a {height}x{width}x{channels} image.", nameof(hwc));
        if (Pads(height, width, size)) return Pad(hwc, height, width, channels, size);

        var pixels = hwc.ToArray();
        while (Math.Min(height, width) >= 2 * size)
            (pixels, height, width) = HalveWithBox(pixels, height, width, channels);
        double scale = (double)size / Math.Min(height, width);
        int newHeight = Math.Max(size, (int)Math.Round(height * scale, MidpointRounding.ToEven));
        int newWidth = Math.Max(size, (int)Math.Round(width * scale, MidpointRounding.ToEven));
        var resized = ResizeBicubic(pixels, height, width, channels, newHeight, newWidth);
        int top = (newHeight - size) / 2, left = (newWidth - size) / 2;
        var output = new byte[channels * size * size];
        for (int c = 0; c < channels; c++)
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            output[(c * size + y) * size + x] = resized[((top + y) * newWidth + left + x) * channels + c];
        return output;
    }

    static byte[] Pad(ReadOnlySpan<byte> hwc, int height, int width, int channels, int size)
    {
        var output = new byte[channels * size * size];
        int top = (size - height) / 2, left = (size - width) / 2;
        for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            output[(c * size + top + y) * size + left + x] = hwc[(y * width + x) * channels + c];
        return output;
    }

    /// <summary>Averages 2×2 blocks (an odd last row or column is dropped), like PIL's BOX reduce by 2.</summary>
    static (byte[] Pixels, int Height, int Width) HalveWithBox(byte[] hwc, int height, int width, int channels)
    {
        int h = height / 2, w = width / 2;
        var output = new byte[h * w * channels];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        for (int c = 0; c < channels; c++)
        {
            int sum = hwc[((2 * y) * width + 2 * x) * channels + c] + hwc[((2 * y) * width + 2 * x + 1) * channels + c]
                    + hwc[((2 * y + 1) * width + 2 * x) * channels + c] + hwc[((2 * y + 1) * width + 2 * x + 1) * channels + c];
            output[(y * w + x) * channels + c] = (byte)((sum + 2) / 4);
        }
        return (output, h, w);
    }

    /// <summary>Catmull-Rom bicubic (PIL's BICUBIC kernel, a = −0.5) through Skia, on RGBA so every channel count works.</summary>
    static byte[] ResizeBicubic(byte[] hwc, int height, int width, int channels, int newHeight, int newWidth)
    {
        using var source = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using var target = new SKBitmap(new SKImageInfo(newWidth, newHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var src = source.GetPixelSpan();
        int srcStride = source.RowBytes;
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int o = y * srcStride + 4 * x, i = (y * width + x) * channels;
            src[o] = hwc[i];
            src[o + 1] = hwc[i + (channels == 3 ? 1 : 0)];
            src[o + 2] = hwc[i + (channels == 3 ? 2 : 0)];
            src[o + 3] = 255;
        }
        if (!source.ScalePixels(target, new SKSamplingOptions(SKCubicResampler.CatmullRom)))
            throw new InvalidOperationException($"Skia could not resize a {width}x{height} image to {newWidth}x{newHeight}.");
        var dst = target.GetPixelSpan();
        int dstStride = target.RowBytes;
        var output = new byte[newHeight * newWidth * channels];
        for (int y = 0; y < newHeight; y++)
        for (int x = 0; x < newWidth; x++)
        for (int c = 0; c < channels; c++)
            output[(y * newWidth + x) * channels + c] = dst[y * dstStride + 4 * x + c];
        return output;
    }
}
