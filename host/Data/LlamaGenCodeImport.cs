using IAR.Abstractions;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>
/// LlamaGen's extracted codes (<see cref="LlamaGenCodeFolders"/>) as a run's training tokens: every code and label file
/// is read once, within a budget, checked against the run's tokenizer and classes, and streamed into a
/// <see cref="TokenCache"/> (so training reads them memory-mapped, per batch, like encoded images).
/// <para>
/// Augmentations: LlamaGen trains on one stored augmentation per sample, drawn uniformly (<c>CustomDataset</c> picks
/// <c>aug_idx</c> in [0, A) when its code path names <c>flip</c>; without it, it would feed all A·L codes as one
/// sequence, which no model of L tokens accepts), and, when the <c>ten_crop_105</c> copy exists, first the copy with
/// probability 1/2. The cache stores the A variants of the copy, then the A of the second copy (2A in all, both copies
/// must have the same A), and the trainer draws one of them uniformly per sample from its seeded, checkpointed
/// generator: the same distribution as LlamaGen's, reproducible and resumable.
/// </para>
/// </summary>
public static class LlamaGenCodeImport
{
    /// <summary>Most augmentations per image read (LlamaGen writes 2 or 10); bounds what one file may make us allocate.</summary>
    public const int MaxVariants = 64;

    /// <summary>Images read per batch of the import.</summary>
    const int BatchImages = 256;

    /// <summary>The copies of the codes at <paramref name="codePath"/>: the folders, then the <c>ten_crop_105</c> copy when it exists.</summary>
    public static IReadOnlyList<LlamaGenCodeFolders> Copies(string codePath, int imageSize)
    {
        var first = LlamaGenCodeFolders.At(codePath, imageSize);
        return first.SecondCrop() is { } second ? [first, second] : [first];
    }

    /// <summary>The fingerprint of every copy's files, recorded as the cache's data so a changed file is noticed.</summary>
    public static string Fingerprint(IReadOnlyList<LlamaGenCodeFolders> copies) =>
        string.Join("+", copies.Select(c => c.Fingerprint(c.Count())));

    /// <summary>Reads the codes of <paramref name="copies"/> into a token cache at <paramref name="cachePath"/>.</summary>
    /// <param name="tokenizerHash">The run tokenizer's hash, recorded in the cache: the codes must have been made by it (only V and L can be checked).</param>
    /// <exception cref="DirectoryNotFoundException">A folder is missing.</exception>
    /// <exception cref="InvalidDataException">
    /// No codes, a missing, hostile or damaged file, codes of another grid or vocabulary than the tokenizer's, labels
    /// outside [0, <paramref name="numClasses"/>), or copies that disagree; one sentence naming the file.
    /// </exception>
    public static void Write(string cachePath, IReadOnlyList<LlamaGenCodeFolders> copies, TokenizerInfo tokenizer, string tokenizerHash,
        int numClasses, CancellationToken cancellation = default)
    {
        int count = copies[0].Count();
        if (count == 0) throw new InvalidDataException($"LlamaGen code folder '{copies[0].Codes}' holds no .npy files.");
        foreach (var copy in copies.Skip(1))
            if (copy.Count() != count)
                throw new InvalidDataException($"LlamaGen code folder '{copy.Codes}' holds {copy.Count()} files but '{copies[0].Codes}' holds {count}; both crop copies must hold the same images.");
        int length = tokenizer.Layout.SequenceLength;
        var reader = new CodeFileReader(tokenizer, length);
        var labels = Labels(copies, count, numClasses);
        int variants = reader.Variants(copies[0].CodeFile(0));
        var contents = new TokenCacheContents(tokenizerHash, tokenizer.VocabularySize, numClasses, tokenizer.Layout, Fingerprint(copies),
            variants * copies.Count, string.Join(",", copies.Select(c => $"{Path.GetFileName(c.Codes)}[0..{variants})")));
        using var labelTensor = torch.tensor(labels);
        TokenCacheWriter.Write(cachePath, contents, labelTensor, Batches());

        IEnumerable<Tensor> Batches()
        {
            for (int start = 0; start < count; start += BatchImages)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = Math.Min(BatchImages, count - start);
                var batch = new long[n * variants * copies.Count * length];   // [n, copies·A, L]
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < copies.Count; c++)
                        reader.Read(copies[c].CodeFile(start + i), variants)
                            .CopyTo(batch, ((long)i * copies.Count + c) * variants * length);
                using var tensor = torch.tensor(batch, [n, variants * copies.Count, length]);
                yield return tensor;
            }
        }
    }

    /// <summary>int64 [N]: every image's label, checked in range and equal in every copy.</summary>
    static long[] Labels(IReadOnlyList<LlamaGenCodeFolders> copies, int count, int numClasses)
    {
        var labels = new long[count];
        for (int i = 0; i < count; i++)
            for (int c = 0; c < copies.Count; c++)
            {
                var file = copies[c].LabelFile(i);
                if (!File.Exists(file))
                    throw new InvalidDataException($"LlamaGen label file '{file}' is missing; {copies[c].CodeFile(i)} has no label (every codes file needs one of the same name).");
                var (shape, values) = NpyArray.ReadIntegers(file, maxElements: 1);
                if (shape.Length != 1 || shape[0] != 1)
                    throw new InvalidDataException($"LlamaGen label file '{file}' holds an array of shape ({string.Join(", ", shape)}); one label of shape (1,) is accepted.");
                if (values[0] < 0 || values[0] >= numClasses)
                    throw new InvalidDataException($"LlamaGen label file '{file}' holds class {values[0]}; the data's classes are [0, {numClasses}).");
                if (c > 0 && values[0] != labels[i])
                    throw new InvalidDataException(
                        $"LlamaGen label file '{file}' holds class {values[0]} but {copies[0].LabelFile(i)} holds {labels[i]}; both crop copies must hold the same images in the same order.");
                labels[i] = values[0];
            }
        return labels;
    }

    /// <summary>Reads one codes file, (1, A, L) of integers in [0, V), allocating at most what the checked shape needs.</summary>
    sealed class CodeFileReader(TokenizerInfo tokenizer, int length)
    {
        /// <summary>A of the file: the augmentations every file must then hold.</summary>
        public int Variants(string file) => (int)ReadChecked(file, expectedVariants: null).Shape[1];

        /// <summary>The A × L codes of <paramref name="file"/>, which must hold <paramref name="variants"/> augmentations.</summary>
        public long[] Read(string file, int variants) => ReadChecked(file, variants).Values;

        (long[] Shape, long[] Values) ReadChecked(string file, int? expectedVariants)
        {
            if (!File.Exists(file)) throw new InvalidDataException($"LlamaGen codes file '{file}' is missing; the files of a code folder are named 0.npy … (N−1).npy.");
            var (shape, values) = NpyArray.ReadIntegers(file, maxElements: (long)MaxVariants * length);
            if (shape.Length != 3 || shape[0] != 1 || shape[2] != length)
                throw new InvalidDataException(
                    $"LlamaGen codes file '{file}' holds an array of shape ({string.Join(", ", shape)}); tokenizer {tokenizer.Plugin}/{tokenizer.Preset} " +
                    $"has {length} tokens per image ({tokenizer.Layout}), so (1, A, {length}) is accepted (A augmentations; for LlamaGen's VQ-16 L = (image size / 16)²).");
            if (shape[1] < 1 || (expectedVariants is int a && shape[1] != a))
                throw new InvalidDataException(
                    $"LlamaGen codes file '{file}' holds {shape[1]} augmentations per image; {(expectedVariants is null ? "at least 1" : $"{expectedVariants}, as the first file of the folder(s)")} is accepted.");
            foreach (var code in values)
                if (code < 0 || code >= tokenizer.VocabularySize)
                    throw new InvalidDataException(
                        $"LlamaGen codes file '{file}' holds code {code}; tokenizer {tokenizer.Plugin}/{tokenizer.Preset} has a vocabulary of [0, {tokenizer.VocabularySize}): the codes were made by another tokenizer.");
            return (shape, values);
        }
    }
}
