using System.Globalization;
using System.Text;
using System.Text.Json;
using IAR.Abstractions;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Data;

/// <summary>
/// Encodes a data set with a tokenizer into a <see cref="TokenCache"/> file, streaming batch by batch into a temp
/// file that replaces the target only when complete (the header is known before the first batch, so the cache is
/// never held in memory whole).
/// </summary>
public static class TokenCacheWriter
{
    /// <param name="tokenizerHash">The tokenizer's content hash, recorded so the cache refuses other tokenizers.</param>
    /// <param name="withFlips">Also encode every image mirrored left–right (variant 1), for flip augmentation of generators.</param>
    /// <param name="progress">Called with (images done, total) after every batch.</param>
    /// <exception cref="InvalidDataException">The tokenizer returned indices outside its vocabulary or a sequence of the wrong length.</exception>
    public static void Write(string path, ITokenizer tokenizer, string tokenizerHash, ImageDataset data, bool withFlips,
        int batchSize, Device device, CancellationToken cancellation = default, Action<int, int>? progress = null)
    {
        var info = tokenizer.Info;
        var contents = new TokenCacheContents(tokenizerHash, info.VocabularySize, data.NumClasses, info.Layout, data.Fingerprint,
            withFlips ? 2 : 1, withFlips ? "original,hflip" : "original");
        bool wasTraining = tokenizer.Module.training;
        tokenizer.Module.eval();
        try
        {
            Write(path, contents, data.Labels, Batches());
        }
        finally
        {
            if (wasTraining) tokenizer.Module.train();
        }

        IEnumerable<Tensor> Batches()
        {
            int count = data.Count;
            for (int start = 0; start < count; start += batchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = Math.Min(batchSize, count - start);
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var indices = torch.arange(start, start + n, dtype: ScalarType.Int64);
                var images = data.Images(indices).to(device);
                var encoded = new List<Tensor> { tokenizer.Encode(images) };                   // [B, L] each
                if (withFlips) encoded.Add(tokenizer.Encode(images.flip(3)));
                var batch = torch.stack(encoded, 1).cpu();                                        // [B, A, L]
                CheckTokens(batch, info, start);
                yield return batch;
                progress?.Invoke(start + n, count);
            }
        }
    }

    /// <summary>
    /// Streams <paramref name="batches"/> (int64 [b, A, L] each, in image order, N images in all) into a cache; the
    /// header is known before the first batch, so the cache is never held in memory whole.
    /// </summary>
    /// <param name="labels">int64 [N] in [0, contents.NumClasses).</param>
    /// <exception cref="InvalidDataException">The batches hold other than N images of A × L tokens.</exception>
    public static void Write(string path, TokenCacheContents contents, Tensor labels, IEnumerable<Tensor> batches)
    {
        int count = (int)labels.shape[0], length = contents.Layout.SequenceLength, variants = contents.Variants;
        var tokenType = TokenCache.StorageType(contents.VocabularySize);
        var labelType = TokenCache.StorageType(contents.NumClasses);
        long labelBytes = (long)count * SafeTensorsDType.SizeOf(labelType);
        long tokenBytes = (long)count * variants * length * SafeTensorsDType.SizeOf(tokenType);
        var metadata = new Dictionary<string, string>
        {
            [TokenCache.Keys.Format] = TokenCache.Format,
            [TokenCache.Keys.Tokenizer] = contents.TokenizerHash,
            [TokenCache.Keys.Permutation] = TokenCache.IdentityPermutation,
            [TokenCache.Keys.VocabularySize] = contents.VocabularySize.ToString(CultureInfo.InvariantCulture),
            [TokenCache.Keys.NumClasses] = contents.NumClasses.ToString(CultureInfo.InvariantCulture),
            [TokenCache.Keys.Layout] = contents.Layout.ToString(),
            [TokenCache.Keys.Data] = contents.DataFingerprint,
            [TokenCache.Keys.Variants] = contents.VariantNames,
        };
        var header = new Dictionary<string, object>
        {
            ["__metadata__"] = metadata,
            ["labels"] = Entry(labelType, [count], 0, labelBytes),
            ["tokens"] = Entry(tokenType, [count, variants, length], labelBytes, labelBytes + tokenBytes),
        };
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;

        RemoveLeftovers(path);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)padded));
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            using (var stored = labels.to(labelType))
                if (count > 0) stream.Write(stored.bytes);
            long written = 0;
            foreach (var batch in batches)
            {
                if (batch.dim() != 3 || batch.shape[1] != variants || batch.shape[2] != length || written + batch.shape[0] > count)
                    throw new InvalidDataException(
                        $"Token cache {path}: a batch of shape [{string.Join(", ", batch.shape)}] after {written} images does not fit [{count}, {variants}, {length}].");
                using var storedBatch = batch.to(tokenType).contiguous();
                stream.Write(storedBatch.bytes);
                written += batch.shape[0];
            }
            if (written != count)
                throw new InvalidDataException($"Token cache {path}: {written} images were written of the {count} labelled.");
        });
    }

    /// <summary>Deletes the temp file of an earlier write that was killed (AtomicFile names it <c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.tmp</c>).</summary>
    static void RemoveLeftovers(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) return;
        foreach (var temp in Directory.GetFiles(dir, $".{Path.GetFileName(path)}.*.tmp")) File.Delete(temp);
    }

    static void CheckTokens(Tensor batch, TokenizerInfo info, int start)
    {
        if (batch.shape[2] != info.Layout.SequenceLength)
            throw new InvalidDataException(
                $"Tokenizer {info.Plugin}/{info.Preset} returned {batch.shape[2]} tokens per image; its layout {info.Layout} has {info.Layout.SequenceLength}.");
        long min = batch.min().item<long>(), max = batch.max().item<long>();
        if (min < 0 || max >= info.VocabularySize)
            throw new InvalidDataException(
                $"Tokenizer {info.Plugin}/{info.Preset} returned index {(min < 0 ? min : max)} for images {start}… ; its vocabulary is [0, {info.VocabularySize}).");
    }

    static Dictionary<string, object> Entry(ScalarType type, long[] shape, long begin, long end) => new()
    {
        ["dtype"] = SafeTensorsDType.NameOf(type),
        ["shape"] = shape,
        ["data_offsets"] = new[] { begin, end },
    };
}

/// <summary>What a token cache's metadata says about its tokens: who encoded them, in what vocabulary, layout and classes, from which data.</summary>
/// <param name="DataFingerprint">The fingerprint of the images (or extracted codes) the tokens come from.</param>
/// <param name="Variants">A: encodings stored per image.</param>
/// <param name="VariantNames">What each variant is, comma-separated (e.g. <c>original,hflip</c>).</param>
public sealed record TokenCacheContents(string TokenizerHash, int VocabularySize, int NumClasses, TokenLayout Layout, string DataFingerprint,
    int Variants, string VariantNames);
