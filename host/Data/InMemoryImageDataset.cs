using System.Security.Cryptography;
using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>An image set held in memory as bytes (IDX data sets: Fashion-MNIST, MNIST).</summary>
public sealed class InMemoryImageDataset : ImageDataset
{
    readonly Tensor pixels;   // uint8 [N, C, H, W]
    readonly Tensor labels;   // int64 [N]
    readonly Lazy<string> fingerprint;

    /// <param name="pixels">uint8 [N, C, H, W], contiguous on the CPU; the dataset takes ownership.</param>
    /// <param name="labels">int64 [N] in [0, classNames.Count), contiguous on the CPU; the dataset takes ownership.</param>
    public InMemoryImageDataset(string description, Tensor pixels, Tensor labels, IReadOnlyList<string> classNames)
    {
        if (pixels.dtype != ScalarType.Byte || pixels.dim() != 4)
            throw new ArgumentException($"Pixels must be uint8 [N, C, H, W], not {pixels.dtype} [{string.Join(", ", pixels.shape)}].");
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != pixels.shape[0])
            throw new ArgumentException($"Labels must be int64 [{pixels.shape[0]}], not {labels.dtype} [{string.Join(", ", labels.shape)}].");
        if (!pixels.is_contiguous() || !labels.is_contiguous() || pixels.device_type != TorchSharp.DeviceType.CPU || labels.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException("Pixels and labels must be contiguous CPU tensors.");
        Description = description;
        this.pixels = pixels;
        this.labels = labels;
        ClassNames = classNames;
        Shape = new ImageShape((int)pixels.shape[1], (int)pixels.shape[2], (int)pixels.shape[3]);
        fingerprint = new Lazy<string>(() =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(this.pixels.bytes);
            hash.AppendData(this.labels.bytes);
            return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
        });
    }

    public override string Description { get; }

    public override int Count => (int)pixels.shape[0];

    public override ImageShape Shape { get; }

    public override IReadOnlyList<string> ClassNames { get; }

    public override Tensor Labels => labels;

    public override string Fingerprint => fingerprint.Value;

    public override Tensor Pixels(Tensor indices) => pixels.index_select(0, indices);

    public override void Dispose()
    {
        pixels.Dispose();
        labels.Dispose();
    }
}
