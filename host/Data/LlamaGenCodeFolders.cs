using System.Security.Cryptography;
using System.Text;
using IAR.Host.Serialization;

namespace IAR.Host.Data;

/// <summary>
/// The folders LlamaGen's <c>autoregressive/train/extract_codes_c2i.py</c> writes under its <c>--code-path</c> and
/// <c>train_c2i.py</c> reads back (<c>dataset/imagenet.py</c>, <c>build_imagenet_code</c>): for image i of the data set
/// (ImageFolder order: classes and files sorted), <c>imagenet{size}_codes/{i}.npy</c> holds int64 (1, A, L) — the
/// codes of A augmentations (A = 2: the image and its mirror; A = 10: torchvision's TenCrop of a centre crop
/// enlarged by <c>--crop-range</c>, the five crops then the five of the mirror), L = (size/16)² for LlamaGen's VQ-16 —
/// and <c>imagenet{size}_labels/{i}.npy</c> int64 (1,) its class.
/// </summary>
/// <param name="Codes">The codes folder, <c>{code path}/imagenet{size}_codes</c>.</param>
/// <param name="Labels">The labels folder, <c>{code path}/imagenet{size}_labels</c>.</param>
public sealed record LlamaGenCodeFolders(string Codes, string Labels)
{
    /// <summary>The folders of <c>--code-path</c> <paramref name="codePath"/> at <c>--image-size</c> <paramref name="imageSize"/>.</summary>
    public static LlamaGenCodeFolders At(string codePath, int imageSize) =>
        new($"{codePath.TrimEnd('/')}/imagenet{imageSize}_codes", $"{codePath.TrimEnd('/')}/imagenet{imageSize}_labels");

    public string CodeFile(long index) => Path.Combine(Codes, $"{index}.npy");

    public string LabelFile(long index) => Path.Combine(Labels, $"{index}.npy");

    /// <summary>
    /// The second crop copy train_c2i.py mixes in: <c>CustomDataset</c> replaces <c>ten_crop/</c> by <c>ten_crop_105/</c>
    /// in both folder paths (so a code path <c>…_ten_crop</c> pairs with <c>…_ten_crop_105</c>, the codes of crop range
    /// 1.05) and, when both folders exist, reads a sample from that copy with probability 1/2. Null when there is none.
    /// </summary>
    public LlamaGenCodeFolders? SecondCrop()
    {
        var other = new LlamaGenCodeFolders(
            Codes.Replace("ten_crop/", "ten_crop_105/", StringComparison.Ordinal), Labels.Replace("ten_crop/", "ten_crop_105/", StringComparison.Ordinal));
        return other != this && Directory.Exists(other.Codes) && Directory.Exists(other.Labels) ? other : null;
    }

    /// <summary>Images in the folders: the number of <c>.npy</c> files in the codes folder (named 0 … N−1).</summary>
    /// <exception cref="DirectoryNotFoundException">Either folder is missing.</exception>
    public int Count()
    {
        foreach (var folder in new[] { Codes, Labels })
            if (!Directory.Exists(folder))
                throw new DirectoryNotFoundException(
                    $"LlamaGen code folder '{folder}' does not exist; extract_codes_c2i.py (or iar extract) writes imagenet<size>_codes/ and imagenet<size>_labels/ under its code path.");
        return Directory.EnumerateFiles(Codes, "*.npy").Count();
    }

    /// <summary>
    /// The first <c>.npy</c> file in either folder that is not one of images 0 … <paramref name="count"/> − 1 (left by
    /// another extraction, it would be read as an image of this one), or null.
    /// </summary>
    public string? ForeignFile(int count)
    {
        var ours = Enumerable.Range(0, count).Select(i => $"{i}.npy").ToHashSet(StringComparer.Ordinal);
        return new[] { Codes, Labels }.Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.npy").Order(StringComparer.Ordinal))
            .FirstOrDefault(file => !ours.Contains(Path.GetFileName(file)));
    }

    /// <summary>
    /// A short hash that changes when a file of the first <paramref name="count"/> images changes: names, sizes and
    /// modification times (as <see cref="ImageFolderDataset"/> does; hashing the contents would cost a full read).
    /// </summary>
    public string Fingerprint(int count)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long i = 0; i < count; i++)
            foreach (var file in new[] { CodeFile(i), LabelFile(i) })
            {
                var info = new FileInfo(file);
                hash.AppendData(Encoding.UTF8.GetBytes($"{info.Name}:{(info.Exists ? info.Length : -1)}:{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}\n"));
            }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>
    /// Writes image <paramref name="index"/>'s two files as <c>np.save</c> does (NPY 1.0, <c>&lt;i8</c>), each atomically;
    /// the label last, so an interrupted write leaves a codes file without its label, which the reader names.
    /// </summary>
    /// <param name="codes">A × L codes.</param>
    public void Write(long index, long[,] codes, long label)
    {
        Directory.CreateDirectory(Codes);
        Directory.CreateDirectory(Labels);
        var bytes = new byte[codes.Length * sizeof(long)];
        Buffer.BlockCopy(codes, 0, bytes, 0, bytes.Length);
        AtomicFile.Write(CodeFile(index), s => NpyArray.Write(s, "<i8", [1, codes.GetLength(0), codes.GetLength(1)], bytes));
        AtomicFile.Write(LabelFile(index), s => NpyArray.Write(s, "<i8", [1], BitConverter.GetBytes(label)));
    }
}
