using System.Globalization;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// One ADM archive sampled by several ranks (<c>mpirun</c>/<c>srun</c> <c>iar sample</c>): each rank writes every block it
/// sampled as a part file (uint8 [b, H, W, 3] pixels, then int64 [b] labels; temp file then rename) into a folder
/// beside the archive, <c>&lt;archive&gt;.parts/</c>; once every rank is done, rank 0 joins the parts in block order
/// into the archive (<see cref="AdmSampleWriter"/>: the file appears only when complete, the same bytes one process
/// writes) and removes the folder. The folder must be one all ranks see (one machine, or a shared file system).
/// </summary>
public sealed class AdmSampleParts(string archivePath, long count, int blockSize, int height, int width)
{
    public string Folder { get; } = archivePath + ".parts";

    long ImageBytes => (long)height * width * 3;

    /// <summary>Rank 0, before any rank writes: an empty folder (the parts of an interrupted earlier run removed).</summary>
    public void Reset()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
        Directory.CreateDirectory(Folder);
    }

    /// <param name="pixels">uint8 [b, H, W, 3] of block <paramref name="block"/>.</param>
    /// <param name="labels">int64 [b].</param>
    public void Write(long block, Tensor pixels, Tensor labels)
    {
        long b = Size(block);
        if (pixels.dtype != ScalarType.Byte || pixels.shape.Length != 4 || pixels.shape[0] != b || pixels.shape[1] != height || pixels.shape[2] != width || pixels.shape[3] != 3)
            throw new ArgumentException($"Block {block} holds uint8 [{b}, {height}, {width}, 3] pixels; got {pixels.dtype} [{string.Join(", ", pixels.shape)}].", nameof(pixels));
        using var rgb = pixels.cpu().contiguous();
        using var l = labels.to(ScalarType.Int64).cpu().contiguous();
        AtomicFile.Write(PartFile(block), s =>
        {
            s.Write(rgb.bytes);
            s.Write(l.bytes);
        });
    }

    /// <summary>
    /// Rank 0, after every rank has written its blocks: the archive from the parts in block order, each block also handed
    /// to <paramref name="each"/> (uint8 [b, H, W, 3] pixels and int64 [b] labels, valid during the call); then the folder goes.
    /// </summary>
    /// <exception cref="IOException">A part is missing or has the wrong size (a rank did not finish).</exception>
    public void Join(Action<Tensor, Tensor> each)
    {
        using (var archive = new AdmSampleWriter(archivePath, count, height, width))
        {
            for (long block = 0; block < ImageSampler.BlockCount(count, blockSize); block++)
            {
                var file = PartFile(block);
                long b = Size(block);
                if (!File.Exists(file) || new FileInfo(file).Length != b * (ImageBytes + 8))
                    throw new IOException($"Sample part {file} is missing or not {b * (ImageBytes + 8)} bytes; the rank that sampled block {block} did not finish.");
                var bytes = File.ReadAllBytes(file);
                using var scope = torch.NewDisposeScope();
                var pixels = torch.tensor(bytes.AsSpan(0, (int)(b * ImageBytes)).ToArray(), [b, height, width, 3], ScalarType.Byte);
                var labels = torch.tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes.AsSpan((int)(b * ImageBytes))).ToArray(), ScalarType.Int64);
                archive.AppendRgb(pixels, labels);
                each(pixels, labels);
            }
            archive.Complete();
        }
        Directory.Delete(Folder, recursive: true);
    }

    long Size(long block) => Math.Min(blockSize, count - block * blockSize);

    string PartFile(long block) => Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"block-{block:D8}.bin"));
}
