using System.Security.Cryptography;
using System.Text;
using IAR.Abstractions;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>
/// An ImageNet-style folder: one sub-folder per class holding PNG or JPEG files. Images are decoded with Skia when
/// a batch asks for them (nothing is held in memory but the file list), converted to grey or RGB and brought to
/// the square size by <see cref="SquareImageFit"/>.
/// </summary>
public sealed class ImageFolderDataset : ImageDataset
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    readonly IReadOnlyList<string> files;
    readonly Tensor labels;
    readonly int size;
    readonly Lazy<string> fingerprint;

    ImageFolderDataset(string description, IReadOnlyList<string> files, long[] labels, IReadOnlyList<string> classNames, int channels, int size)
    {
        Description = description;
        this.files = files;
        this.labels = torch.tensor(labels, ScalarType.Int64);
        ClassNames = classNames;
        this.size = size;
        Shape = new ImageShape(channels, size, size);
        fingerprint = new Lazy<string>(() =>
        {
            // Content hashing a large folder would take longer than training on it: names, sizes and modification
            // times stand in (as for make), so a copied folder may be taken for changed data, never the reverse.
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (int i = 0; i < files.Count; i++)
            {
                var info = new FileInfo(files[i]);
                hash.AppendData(Encoding.UTF8.GetBytes(
                    $"{Path.GetFileName(Path.GetDirectoryName(files[i]))}/{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}:{labels[i]}\n"));
            }
            hash.AppendData(Encoding.UTF8.GetBytes($"{channels}x{size}"));
            return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
        });
    }

    /// <summary>Lists <paramref name="folder"/>: classes are its sub-folders in ordinal order, files within them likewise.</summary>
    /// <param name="classNames">The training set's classes, for a held-out split (which may lack some); null for training.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">It has no class folders, a class without images, or a class unknown to training.</exception>
    public static ImageFolderDataset Open(string folder, int channels, int size, IReadOnlyList<string>? classNames = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Image folder '{folder}' does not exist.");
        var classDirs = Directory.GetDirectories(folder).Order(StringComparer.Ordinal).ToList();
        if (classDirs.Count == 0)
            throw new InvalidDataException($"Image folder '{folder}' has no class sub-folders; it should hold one folder of PNG/JPEG images per class.");
        var names = classNames ?? classDirs.Select(d => Path.GetFileName(d)!).ToArray();
        var paths = new List<string>();
        var labels = new List<long>();
        foreach (var dir in classDirs)
        {
            var name = Path.GetFileName(dir)!;
            int label = IndexOf(names, name);
            if (label < 0)
                throw new InvalidDataException($"Class folder '{dir}' is not a class of the training set ({Abbreviate(names)}).");
            var images = Directory.EnumerateFiles(dir)
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).ToList();
            if (images.Count == 0)
                throw new InvalidDataException($"Class folder '{dir}' holds no PNG or JPEG images.");
            paths.AddRange(images);
            labels.AddRange(Enumerable.Repeat((long)label, images.Count));
        }
        return new ImageFolderDataset($"{folder} ({paths.Count} images, {names.Count} classes)", paths, labels.ToArray(), names, channels, size);
    }

    public override string Description { get; }

    public override int Count => files.Count;

    public override ImageShape Shape { get; }

    public override IReadOnlyList<string> ClassNames { get; }

    public override Tensor Labels => labels;

    public override string Fingerprint => fingerprint.Value;

    /// <summary>The file of image <paramref name="index"/>.</summary>
    public string FileOf(int index) => files[index];

    /// <summary>Keeps the images at <paramref name="indices"/> (in that order).</summary>
    public ImageFolderDataset Subset(IReadOnlyList<int> indices)
    {
        var labelArray = labels.data<long>().ToArray();
        return new ImageFolderDataset($"{Description}, {indices.Count} kept", indices.Select(i => files[i]).ToArray(),
            indices.Select(i => labelArray[i]).ToArray(), ClassNames, Shape.Channels, size);
    }

    public override Tensor Pixels(Tensor indices)
    {
        var which = indices.data<long>().ToArray();
        int itemBytes = Shape.Channels * size * size;
        var batch = new byte[which.Length * itemBytes];
        try
        {
            Parallel.For(0, which.Length, i => Decode(files[(int)which[i]]).CopyTo(batch, i * itemBytes));
        }
        catch (AggregateException e)
        {
            // the first damaged file, as the one clear error a serial loop would have raised
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return torch.tensor(batch, [which.Length, Shape.Channels, size, size], ScalarType.Byte);
    }

    byte[] Decode(string file)
    {
        // Unpremultiplied RGBA, so a transparent PNG keeps its colours (PIL's convert("RGB") drops alpha likewise).
        using var codec = SKCodec.Create(file)
            ?? throw new InvalidDataException($"Image '{file}' cannot be decoded; PNG and JPEG files are accepted.");
        using var bitmap = SKBitmap.Decode(codec, new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul))
            ?? throw new InvalidDataException($"Image '{file}' is damaged: Skia could not decode its pixels.");
        int width = bitmap.Width, height = bitmap.Height, stride = bitmap.RowBytes, channels = Shape.Channels;
        var source = bitmap.GetPixelSpan();
        var hwc = new byte[height * width * channels];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int o = y * stride + 4 * x;
            if (channels == 3)
            {
                hwc[(y * width + x) * 3] = source[o];
                hwc[(y * width + x) * 3 + 1] = source[o + 1];
                hwc[(y * width + x) * 3 + 2] = source[o + 2];
            }
            else
                hwc[y * width + x] = Luminance(source[o], source[o + 1], source[o + 2]);
        }
        return SquareImageFit.Fit(hwc, height, width, channels, size);
    }

    /// <summary>ITU-R 601-2 luma, as PIL's <c>convert("L")</c>.</summary>
    public static byte Luminance(byte r, byte g, byte b) => (byte)((r * 299 + g * 587 + b * 114 + 500) / 1000);

    static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        return -1;
    }

    static string Abbreviate(IReadOnlyList<string> names) =>
        names.Count <= 6 ? string.Join(", ", names) : string.Join(", ", names.Take(6)) + $" and {names.Count - 6} more";

    public override void Dispose() => labels.Dispose();
}
