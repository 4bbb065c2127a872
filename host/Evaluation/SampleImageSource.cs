using System.Text.RegularExpressions;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Images to score, read batch by batch: an ADM .npz (<c>arr_0</c> uint8 [N, H, W, 3], labels from <c>arr_1</c>) or a
/// folder of PNG/JPEG files of one size (labels from <c>…-classN.png</c> names, as <c>iar sample</c> writes them).
/// </summary>
public sealed class SampleImageSource : IDisposable
{
    readonly AdmSampleReader? archive;
    readonly string[] files;
    readonly long[]? fileLabels;

    SampleImageSource(string path, AdmSampleReader? archive, string[] files, long[]? fileLabels)
    {
        Path = path;
        this.archive = archive;
        this.files = files;
        this.fileLabels = fileLabels;
    }

    public string Path { get; }

    public long Count => archive?.Count ?? files.Length;

    /// <summary>Whether every image carries the class it was conditioned on.</summary>
    public bool Labelled => archive is not null ? archive.Labels is not null : fileLabels is not null;

    /// <exception cref="FileNotFoundException">Neither a file nor a folder.</exception>
    /// <exception cref="InvalidDataException">An .npz without a uint8 arr_0, or a folder without images.</exception>
    public static SampleImageSource Open(string path)
    {
        if (File.Exists(path)) return new SampleImageSource(path, AdmSampleReader.Open(path), [], null);
        if (!Directory.Exists(path)) throw new FileNotFoundException($"Samples '{path}' are neither an .npz file nor a folder of images.", path);
        var files = Directory.GetFiles(path)
            .Where(f => System.IO.Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg")
            .Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new InvalidDataException($"{path} holds no .png/.jpg images.");
        var labels = files.Select(f => Regex.Match(System.IO.Path.GetFileNameWithoutExtension(f), @"class(\d+)$"))
            .Select(m => m.Success ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1).ToArray();
        return new SampleImageSource(path, null, files, labels.All(l => l >= 0) ? labels : null);
    }

    /// <summary>float [b, 3, H, W] in [-1, 1] with labels [b] (−1 without labels); each batch is the caller's.</summary>
    public IEnumerable<LabelledImages> Batches(int batchSize) => archive?.Batches(batchSize) ?? FolderBatches(batchSize);

    IEnumerable<LabelledImages> FolderBatches(int batchSize)
    {
        int? height = null, width = null;
        for (int start = 0; start < files.Length; start += batchSize)
        {
            int b = Math.Min(batchSize, files.Length - start);
            byte[]? pixels = null;
            for (int i = 0; i < b; i++)
            {
                var file = files[start + i];
                using var decoded = SKBitmap.Decode(file) ?? throw new InvalidDataException($"{file} is not a readable image.");
                using var bitmap = decoded.ColorType == SKColorType.Rgba8888 ? decoded.Copy() : decoded.Copy(SKColorType.Rgba8888);
                height ??= bitmap.Height;
                width ??= bitmap.Width;
                if (bitmap.Height != height || bitmap.Width != width)
                    throw new InvalidDataException($"{file} is {bitmap.Width}×{bitmap.Height} but the first image is {width}×{height}; all samples must have one size.");
                pixels ??= new byte[b * height.Value * width.Value * 3];
                var rgba = bitmap.Bytes;
                int offset = i * height.Value * width.Value * 3;
                for (int p = 0; p < height * width; p++)
                {
                    pixels[offset + p * 3] = rgba[p * 4];
                    pixels[offset + p * 3 + 1] = rgba[p * 4 + 1];
                    pixels[offset + p * 3 + 2] = rgba[p * 4 + 2];
                }
            }
            Tensor images;
            using (var scope = torch.NewDisposeScope())
            {
                var raw = torch.tensor(pixels!, [b, height!.Value, width!.Value, 3], ScalarType.Byte);
                images = (raw.permute(0, 3, 1, 2).to(ScalarType.Float32) / 127.5f - 1).MoveToOuterDisposeScope();   // [b, 3, H, W]
            }
            var labels = torch.tensor(fileLabels is null ? Enumerable.Repeat(-1L, b).ToArray() : fileLabels.AsSpan(start, b).ToArray(), ScalarType.Int64);
            yield return new LabelledImages(images, labels);
        }
    }

    public void Dispose() => archive?.Dispose();
}
