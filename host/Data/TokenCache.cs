using System.IO.MemoryMappedFiles;
using IAR.Abstractions;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>
/// A data set encoded once by a tokenizer: a safetensors file (so any safetensors reader can inspect it) holding
/// <c>labels</c> [N] and <c>tokens</c> [N, A, L] in the smallest integer type that holds V (U8 up to 256, I16 up to
/// 32768, else I32), A = 1 or 2 (original, horizontally flipped). The metadata names the tokenizer's content hash,
/// the permutation of its numbering (<c>identity</c> for a cache written from the tokenizer itself), V, the
/// classes, the layout and the data fingerprint, and the cache refuses to pair with anything else. Small caches are
/// read into memory; large ones are memory-mapped and read per batch.
/// </summary>
public sealed class TokenCache : ITokenSource, IDisposable
{
    public const string Format = "iar-token-cache/1";
    public const string IdentityPermutation = "identity";

    /// <summary>Caches up to this size are read into memory; larger ones are memory-mapped.</summary>
    public const long DefaultInMemoryLimit = 256L << 20;

    public static class Keys
    {
        public const string Format = "iar.format";
        public const string Tokenizer = "iar.tokenizer";
        public const string Permutation = "iar.permutation";
        public const string VocabularySize = "iar.vocabulary_size";
        public const string NumClasses = "iar.num_classes";
        public const string Layout = "iar.layout";
        public const string Data = "iar.data";
        public const string Variants = "iar.variants";
    }

    readonly Tensor labels;                 // int64 [N]
    readonly Tensor? tokens;                // stored dtype [N, A, L], when in memory
    readonly MemoryMappedFile? map;         // when memory-mapped
    readonly MemoryMappedViewAccessor? view;
    readonly long tokensOffset;
    readonly ScalarType storedType;
    readonly int elementSize;

    TokenCache(string path, IReadOnlyDictionary<string, string> metadata, Tensor labels, Tensor? tokens,
        MemoryMappedFile? map, MemoryMappedViewAccessor? view, long tokensOffset, SafeTensorsEntry entry)
    {
        FilePath = path;
        Metadata = metadata;
        this.labels = labels;
        this.tokens = tokens;
        this.map = map;
        this.view = view;
        this.tokensOffset = tokensOffset;
        storedType = entry.DType;
        elementSize = SafeTensorsDType.SizeOf(entry.DType);
        Count = (int)entry.Shape[0];
        Variants = (int)entry.Shape[1];
        SequenceLength = (int)entry.Shape[2];
        VocabularySize = PositiveInt(metadata, Keys.VocabularySize, path);
        NumClasses = PositiveInt(metadata, Keys.NumClasses, path);
    }

    public string FilePath { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public int Count { get; }

    public int SequenceLength { get; }

    public int Variants { get; }

    public int VocabularySize { get; }

    public int NumClasses { get; }

    public string Permutation => Metadata[Keys.Permutation];

    /// <summary>The content hash of the tokenizer that wrote the cache.</summary>
    public string Tokenizer => Metadata[Keys.Tokenizer];

    /// <summary>The fingerprint of the images it was encoded from.</summary>
    public string Data => Metadata[Keys.Data];

    public bool IsMemoryMapped => view is not null;

    /// <summary>The integer type tokens are stored in for a vocabulary of <paramref name="vocabularySize"/>.</summary>
    public static ScalarType StorageType(int vocabularySize) =>
        vocabularySize <= 256 ? ScalarType.Byte : vocabularySize <= 32768 ? ScalarType.Int16 : ScalarType.Int32;

    /// <summary>Opens a cache and checks that it was written by <paramref name="tokenizer"/> from <paramref name="dataFingerprint"/>.</summary>
    /// <param name="tokenizer">The content hash of the tokenizer the caller encodes with.</param>
    /// <param name="dataFingerprint">The images' fingerprint, or null not to check.</param>
    /// <param name="inMemoryLimit">Read files up to this size into memory; memory-map larger ones.</param>
    /// <exception cref="InvalidDataException">Not a token cache, damaged, or written by another tokenizer or from other data.</exception>
    public static TokenCache Open(string path, string tokenizer, string? dataFingerprint, long inMemoryLimit = DefaultInMemoryLimit)
    {
        var file = SafeTensorsFile.Open(path);
        var meta = file.Metadata;
        if (!meta.TryGetValue(Keys.Format, out var format) || format != Format)
            throw new InvalidDataException($"{path} is not a token cache of this version ({Keys.Format} is '{format ?? "absent"}', expected '{Format}').");
        foreach (var key in new[] { Keys.Tokenizer, Keys.Permutation, Keys.VocabularySize, Keys.NumClasses, Keys.Layout, Keys.Data })
            if (!meta.ContainsKey(key)) throw new InvalidDataException($"Token cache {path} lacks the metadata key {key}.");
        if (meta[Keys.Tokenizer] != tokenizer)
            throw new InvalidDataException(
                $"Token cache {path} was encoded by tokenizer {meta[Keys.Tokenizer]}, not by this run's tokenizer {tokenizer}; " +
                "its tokens mean other codes. The tokenizer changed since the cache was written: start the run over with --fresh.");
        if (dataFingerprint is not null && meta[Keys.Data] != dataFingerprint)
            throw new InvalidDataException(
                $"Token cache {path} was encoded from other images (data {meta[Keys.Data]}, now {dataFingerprint}); start the run over with --fresh.");
        var tokenEntry = file.Entry("tokens");
        var labelEntry = file.Entry("labels");
        if (tokenEntry.Shape.Length != 3 || labelEntry.Shape.Length != 1 || labelEntry.Shape[0] != tokenEntry.Shape[0])
            throw new InvalidDataException(
                $"Token cache {path} has tokens [{string.Join(", ", tokenEntry.Shape)}] and labels [{string.Join(", ", labelEntry.Shape)}]; expected [N, A, L] and [N].");
        if (tokenEntry.Shape.Any(d => d > int.MaxValue))
            throw new InvalidDataException($"Token cache {path} has tokens [{string.Join(", ", tokenEntry.Shape)}]; each size must fit a 32-bit integer.");
        if (tokenEntry.DType is not (ScalarType.Byte or ScalarType.Int16 or ScalarType.Int32))
            throw new InvalidDataException($"Token cache {path} stores tokens as {tokenEntry.DType}; U8, I16 or I32 are accepted.");

        using var storedLabels = file.Load("labels");
        var labels = storedLabels.to(ScalarType.Int64);
        int numClasses = PositiveInt(meta, Keys.NumClasses, path);
        int vocabulary = PositiveInt(meta, Keys.VocabularySize, path);
        if (labels.NumberOfElements > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= numClasses))
            throw new InvalidDataException($"Token cache {path} holds labels outside [0, {numClasses}); it is damaged.");

        long tokensOffset = file.DataStart + tokenEntry.Begin;
        if (new FileInfo(path).Length <= inMemoryLimit)
        {
            var tokens = file.Load("tokens");
            CheckRange(tokens, vocabulary, path);
            return new TokenCache(path, meta, labels, tokens, null, null, tokensOffset, tokenEntry);
        }
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        return new TokenCache(path, meta, labels, null, map, view, tokensOffset, tokenEntry);
    }

    public TokenBatch Gather(Tensor indices, Tensor? variants = null)
    {
        using var scope = torch.NewDisposeScope();
        long batch = indices.shape[0];
        var which = indices.data<long>().ToArray();
        foreach (var i in which)
            if (i < 0 || i >= Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Image index {i} is outside the cache's [0, {Count}).");
        var variant = variants?.data<long>().ToArray() ?? new long[batch];
        foreach (var a in variant)
            if (a < 0 || a >= Variants) throw new ArgumentOutOfRangeException(nameof(variants), $"Variant {a} is outside the cache's [0, {Variants}).");

        Tensor selected;   // stored dtype [B, L]
        if (tokens is not null)
        {
            var rows = torch.tensor(which).mul_(Variants).add_(torch.tensor(variant));
            selected = tokens.view(-1, SequenceLength).index_select(0, rows);
        }
        else
        {
            int rowBytes = SequenceLength * elementSize;
            var buffer = new byte[batch * rowBytes];
            for (int b = 0; b < batch; b++)
                view!.ReadArray(tokensOffset + (which[b] * Variants + variant[b]) * rowBytes, buffer, b * rowBytes, rowBytes);
            selected = torch.empty([batch, SequenceLength], storedType);
            if (buffer.Length > 0) selected.bytes = buffer;
            CheckRange(selected, VocabularySize, FilePath);
        }
        var result = new TokenBatch(selected.to(ScalarType.Int64).MoveToOuterDisposeScope(), labels.index_select(0, indices).MoveToOuterDisposeScope());
        return result;
    }

    static int PositiveInt(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        int.TryParse(metadata[key], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new InvalidDataException($"Token cache {path} has {key} = '{metadata[key]}'; a positive integer is expected.");

    static void CheckRange(Tensor tokens, int vocabulary, string path)
    {
        if (tokens.NumberOfElements == 0) return;
        // Int16 storage of V = 32768 would read back index 32767 at most; negatives mean damage.
        using var min = tokens.min();
        using var max = tokens.max();
        if (min.to(ScalarType.Int64).item<long>() < 0 || max.to(ScalarType.Int64).item<long>() >= vocabulary)
            throw new InvalidDataException($"Token cache {path} holds indices outside [0, {vocabulary}); it is damaged.");
    }

    public void Dispose()
    {
        labels.Dispose();
        tokens?.Dispose();
        view?.Dispose();
        map?.Dispose();
    }
}
