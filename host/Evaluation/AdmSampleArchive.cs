using System.IO.Compression;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Samples in the format of the ADM evaluator (guided-diffusion's evaluations/evaluator.py), the field's standard
/// FID/IS/precision/recall tool: an uncompressed .npz (a zip of .npy files) whose <c>arr_0</c> is uint8 [N, H, W, 3]
/// RGB, with the class labels as <c>arr_1</c> int64 [N] as ADM's own sampler writes them. Grey images are repeated to
/// three channels. Pixels are ((x + 1) · 127.5) clamped to [0, 255] and truncated, as in ADM's sampling script.
/// </summary>
public static class AdmSampleArchive
{
    /// <summary>Writes <paramref name="samples"/> atomically to <paramref name="path"/> (conventionally *.npz).</summary>
    public static void Write(string path, LabelledImages samples)
    {
        var (pixels, shape) = ToNhwcRgb(samples.Images);
        using var labels = samples.Labels.to(ScalarType.Int64).contiguous();
        var labelBytes = labels.bytes.ToArray();
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            WriteEntry(zip, "arr_0.npy", "|u1", shape, pixels);
            WriteEntry(zip, "arr_1.npy", "<i8", [samples.Count], labelBytes);
        });
    }

    /// <summary>float [N, C, H, W] in [-1, 1] (C = 1 or 3) → uint8 NHWC RGB bytes and their shape.</summary>
    public static (byte[] Pixels, long[] Shape) ToNhwcRgb(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3))
            throw new ArgumentException($"Images must be [N, 1 or 3, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        using var scope = torch.NewDisposeScope();
        var x = images.to(ScalarType.Float32).cpu();
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);
        var bytes = ((x + 1) * 127.5f).clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();   // [N, H, W, 3]
        return (bytes.bytes.ToArray(), bytes.shape);
    }

    static void WriteEntry(ZipArchive zip, string name, string descr, IReadOnlyList<long> shape, byte[] data)
    {
        // numpy.savez stores entries uncompressed
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var output = entry.Open();
        NpyArray.Write(output, descr, shape, data);
    }
}
