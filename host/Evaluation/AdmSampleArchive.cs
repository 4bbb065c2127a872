using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// Samples in the format of the ADM evaluator (guided-diffusion's evaluations/evaluator.py), the field's standard
/// FID/IS/precision/recall tool: an uncompressed .npz (a zip of .npy files) whose <c>arr_0</c> is uint8 [N, H, W, 3]
/// RGB, with the class labels as <c>arr_1</c> int64 [N] as ADM's own sampler writes them. Grey images are repeated to
/// three channels. Pixels are ((x + 1) · 127.5) clamped to [0, 255] and truncated, as in ADM's sampling script.
/// Written and read batch by batch (<see cref="AdmSampleWriter"/>, <see cref="AdmSampleReader"/>), so 50,000 images of
/// 256×256 never sit in memory at once.
/// </summary>
public static class AdmSampleArchive
{
    public const string ImagesEntry = "arr_0.npy", LabelsEntry = "arr_1.npy";

    /// <summary>Writes <paramref name="samples"/> atomically to <paramref name="path"/> (conventionally *.npz).</summary>
    public static void Write(string path, LabelledImages samples)
    {
        using var writer = new AdmSampleWriter(path, samples.Count, (int)samples.Images.shape[2], (int)samples.Images.shape[3]);
        writer.Append(samples.Images, samples.Labels);
        writer.Complete();
    }

    /// <summary>float [N, C, H, W] in [-1, 1] (C = 1 or 3) → uint8 NHWC RGB bytes and their shape.</summary>
    public static (byte[] Pixels, long[] Shape) ToNhwcRgb(Tensor images)
    {
        using var bytes = ToNhwcRgbTensor(images);
        return (bytes.bytes.ToArray(), bytes.shape);
    }

    /// <summary>float [N, C, H, W] in [-1, 1] → uint8 [N, H, W, 3] contiguous CPU tensor (the caller owns it).</summary>
    public static Tensor ToNhwcRgbTensor(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3))
            throw new ArgumentException($"Images must be [N, 1 or 3, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        using var scope = torch.NewDisposeScope();
        var x = images.to(ScalarType.Float32).cpu();
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);
        return ((x + 1) * 127.5f).clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Writes an ADM archive of a known number of images batch by batch: <c>arr_0</c> streams to disk as batches arrive,
/// the labels (8 bytes an image) follow as <c>arr_1</c> on <see cref="Complete"/>. The file appears only when complete.
/// The zip is System.IO.Compression's, in Create mode on a seekable file: each entry is written straight through (no
/// buffering; 4.4 GB measured at 40 MB resident), stored (<see cref="CompressionLevel.NoCompression"/>, as
/// <c>numpy.savez</c> writes), with Zip64 records once an entry passes 4 GB, which numpy's zipfile reads.
/// </summary>
public sealed class AdmSampleWriter : IDisposable
{
    // Every entry carries this time (zip's DOS epoch), so the same samples give the same bytes.
    static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    readonly PendingFile file;
    readonly ZipArchive zip;
    readonly Stream images;
    readonly long count;
    readonly int height, width;
    readonly long[] labels;
    long written;

    public AdmSampleWriter(string path, long count, int height, int width)
    {
        if (count < 0 || height < 1 || width < 1)
            throw new ArgumentException($"An ADM archive needs N ≥ 0 images of positive size; got N = {count}, {height}×{width}.");
        this.count = count;
        this.height = height;
        this.width = width;
        labels = new long[count];
        file = new PendingFile(path, 1 << 20);
        try
        {
            zip = new ZipArchive(file.Stream, ZipArchiveMode.Create, leaveOpen: true);
            images = OpenEntry(AdmSampleArchive.ImagesEntry);
            images.Write(NpyArray.Header("|u1", [count, height, width, 3]));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public long Written => written;

    /// <param name="images">float [b, C, H, W] in [-1, 1].</param>
    /// <param name="batchLabels">int64 [b].</param>
    public void Append(Tensor images, Tensor batchLabels)
    {
        if (images.dim() != 4 || images.shape[2] != height || images.shape[3] != width)
            throw new ArgumentException($"This archive holds {height}×{width} images; got [{string.Join(", ", images.shape)}].", nameof(images));
        using var pixels = AdmSampleArchive.ToNhwcRgbTensor(images);   // [b, H, W, 3]
        AppendRgb(pixels, batchLabels);
    }

    /// <param name="pixels">uint8 [b, H, W, 3], as <see cref="AdmSampleArchive.ToNhwcRgbTensor"/> makes them.</param>
    /// <param name="batchLabels">int64 [b].</param>
    public void AppendRgb(Tensor pixels, Tensor batchLabels)
    {
        long b = pixels.shape[0];
        if (pixels.dtype != ScalarType.Byte || pixels.dim() != 4 || pixels.shape[1] != height || pixels.shape[2] != width || pixels.shape[3] != 3)
            throw new ArgumentException($"This archive holds uint8 [b, {height}, {width}, 3] pixels; got {pixels.dtype} [{string.Join(", ", pixels.shape)}].", nameof(pixels));
        if (written + b > count) throw new InvalidOperationException($"The archive was declared for {count} images; appending {written + b}.");
        if (b == 0) return;
        using (var contiguous = pixels.cpu().contiguous()) this.images.Write(contiguous.bytes);
        using var l = batchLabels.to(ScalarType.Int64).cpu().contiguous();
        l.data<long>().CopyTo(labels, (int)written);
        written += b;
    }

    public void Complete()
    {
        if (written != count) throw new InvalidOperationException($"The archive was declared for {count} images but {written} were appended.");
        images.Dispose();
        using (var s = OpenEntry(AdmSampleArchive.LabelsEntry))
        {
            s.Write(NpyArray.Header("<i8", [count]));
            s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()));
        }
        zip.Dispose();   // writes the central directory
        file.Commit();
    }

    // Uncommitted: the temp file goes; the archive is left unfinished rather than given a central directory.
    public void Dispose() => file.Dispose();

    Stream OpenEntry(string name)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        entry.LastWriteTime = EntryTime;
        return entry.Open();
    }
}

/// <summary>Reads an ADM archive (<c>arr_0</c> uint8 [N, H, W, 3], optional <c>arr_1</c> labels) batch by batch.</summary>
public sealed class AdmSampleReader : IDisposable
{
    readonly ZipArchive zip;
    readonly ZipArchiveEntry images;
    readonly long dataOffset;

    AdmSampleReader(string path, ZipArchive zip, ZipArchiveEntry images, long count, int height, int width, long dataOffset, long[]? labels)
    {
        FilePath = path;
        this.zip = zip;
        this.images = images;
        Count = count;
        Height = height;
        Width = width;
        this.dataOffset = dataOffset;
        Labels = labels;
    }

    public string FilePath { get; }

    public long Count { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>The class labels (<c>arr_1</c>), or null when the archive has none.</summary>
    public long[]? Labels { get; }

    /// <exception cref="InvalidDataException">Not an .npz with a uint8 [N, H, W, 3] arr_0 (what it has is named).</exception>
    public static AdmSampleReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Samples file '{path}' does not exist.", path);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path} is not a readable .npz (zip) file: {e.Message}");
        }
        try
        {
            var entry = zip.GetEntry(AdmSampleArchive.ImagesEntry)
                ?? throw new InvalidDataException($"{path} has no {AdmSampleArchive.ImagesEntry}; an ADM sample archive keeps its images there (uint8 [N, H, W, 3]).");
            long offset;
            long[] shape;
            string descr;
            using (var s = entry.Open()) (descr, shape, offset) = NpyArray.ReadHeader(s, entry.Length, path);
            if (descr != "|u1" || shape.Length != 4 || shape[3] != 3 || shape[1] > int.MaxValue || shape[2] > int.MaxValue)
                throw new InvalidDataException($"{path}: {AdmSampleArchive.ImagesEntry} is {descr} ({string.Join(", ", shape)}); uint8 [N, H, W, 3] is accepted.");
            long[]? labels = null;
            if (zip.GetEntry(AdmSampleArchive.LabelsEntry) is { } labelEntry)
            {
                using var s = labelEntry.Open();
                var (ld, ls, _) = NpyArray.ReadHeader(s, labelEntry.Length, path);
                if (ld == "<i8" && ls.Length == 1 && ls[0] == shape[0])
                {
                    // shape[0] matched the entry's claimed length, which a crafted zip may inflate: charged before allocating.
                    LoadBudget.ForFile(path, new FileInfo(path).Length).Charge(shape[0] * 8, AdmSampleArchive.LabelsEntry);
                    labels = new long[shape[0]];
                    if (s.ReadAtLeast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()), checked((int)(shape[0] * 8)), throwOnEndOfStream: false) < shape[0] * 8)
                        throw new InvalidDataException($"{path}: {AdmSampleArchive.LabelsEntry} is truncated.");
                }
            }
            return new AdmSampleReader(path, zip, entry, shape[0], checked((int)shape[1]), checked((int)shape[2]), offset, labels);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>Images as float [b, 3, H, W] in [-1, 1] with labels [b] (−1 where the archive has none); each batch is the caller's.</summary>
    public IEnumerable<LabelledImages> Batches(int batchSize)
    {
        using var s = images.Open();
        long imageBytes = (long)Height * Width * 3;
        // The header's shape matched the entry's length (NpyArray.ReadHeader); a zip can still claim a length its data
        // does not have, so the batch buffer is charged to the file's budget and a short read is a refusal.
        long bufferBytes = checked(Math.Min(batchSize, Count) * imageBytes);
        LoadBudget.ForFile(FilePath, new FileInfo(FilePath).Length).Charge(bufferBytes, "a batch of images");
        var buffer = new byte[bufferBytes];
        ReadExactly(s, new byte[dataOffset]);
        for (long start = 0; start < Count; start += batchSize)
        {
            int b = (int)Math.Min(batchSize, Count - start);
            var span = buffer.AsSpan(0, (int)(b * imageBytes));
            ReadExactly(s, span);
            Tensor x, y;
            // The scope closes before the yield: a scope left open across it would also collect the caller's tensors.
            using (var scope = torch.NewDisposeScope())
            {
                var pixels = torch.tensor(span.ToArray(), [b, Height, Width, 3], ScalarType.Byte);
                x = (pixels.permute(0, 3, 1, 2).to(ScalarType.Float32) / 127.5f - 1).MoveToOuterDisposeScope();   // [b, 3, H, W]
                y = (Labels is null ? torch.full(b, -1L, ScalarType.Int64) : torch.tensor(Labels.AsSpan((int)start, b).ToArray(), ScalarType.Int64))
                    .MoveToOuterDisposeScope();
            }
            yield return new LabelledImages(x, y);
        }
    }

    void ReadExactly(Stream s, Span<byte> span)
    {
        try
        {
            s.ReadExactly(span);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{FilePath}: {AdmSampleArchive.ImagesEntry} ends before the images its header declares; the file is truncated.");
        }
    }

    public void Dispose() => zip.Dispose();
}
