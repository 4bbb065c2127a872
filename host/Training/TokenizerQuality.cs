using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>How well a tokenizer reconstructs held-out images, and how much of its codebook it uses on them.</summary>
/// <param name="Psnr">Mean over images of 10·log10(1 / MSE) with pixels in [0, 1] (dB).</param>
/// <param name="CodebookUsage">Share of the V codes chosen at least once.</param>
public sealed record TokenizerQuality(double Psnr, double CodebookUsage, int UsedCodes, int VocabularySize, int Images)
{
    /// <summary>Encodes and decodes up to <paramref name="maxImages"/> images (evenly spaced) of <paramref name="data"/>.</summary>
    public static TokenizerQuality Measure(ITokenizer tokenizer, ImageDataset data, int maxImages, int batchSize, Device device)
    {
        var keep = DatasetLoader.EvenlySpaced(data.Count, maxImages);
        int vocabulary = tokenizer.Info.VocabularySize;
        using var used = torch.zeros(vocabulary, ScalarType.Bool);
        double psnrSum = 0;
        bool wasTraining = tokenizer.Module.training;
        tokenizer.Module.eval();
        try
        {
            for (int start = 0; start < keep.Length; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var indices = torch.tensor(keep[start..Math.Min(keep.Length, start + batchSize)].Select(i => (long)i).ToArray());
                var images = data.Images(indices).to(device);
                var tokens = tokenizer.Encode(images);
                var reconstruction = tokenizer.Decode(tokens);
                var mse = (reconstruction - images).div(2).pow(2).flatten(1).mean([1]).clamp_min(1e-10);   // [B], on [0, 1]
                psnrSum += (-10.0 * mse.log10()).sum().to(ScalarType.Float64).item<double>();
                used.index_fill_(0, tokens.flatten().cpu(), true);
            }
        }
        finally
        {
            if (wasTraining) tokenizer.Module.train();
        }
        int usedCodes = (int)used.sum().item<long>();
        return new TokenizerQuality(psnrSum / Math.Max(1, keep.Length), (double)usedCodes / vocabulary, usedCodes, vocabulary, keep.Length);
    }

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>A hash of what <see cref="Measure"/> depends on: the tokenizer's content hash, the images, how many and the batch size.</summary>
    public static string Fingerprint(string tokenizerHash, string dataFingerprint, int maxImages, int batchSize) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", "format 1", tokenizerHash, dataFingerprint,
            maxImages.ToString(CultureInfo.InvariantCulture), batchSize.ToString(CultureInfo.InvariantCulture)))))[..16];

    /// <summary>
    /// The quality measured once per run and kept in <paramref name="path"/> (the run's <c>tokenizer/quality.json</c>), when
    /// it was measured with <paramref name="fingerprint"/>'s inputs; null when the file is missing, stale or unreadable.
    /// </summary>
    public static TokenizerQuality? Load(string path, string fingerprint)
    {
        // The file this writes is a few hundred bytes; anything past the limit is not ours and is not read into memory.
        if (!File.Exists(path) || new FileInfo(path).Length > MaxCacheBytes) return null;
        try
        {
            var cached = JsonSerializer.Deserialize<CachedTokenizerQuality>(File.ReadAllText(path), Options);
            return cached?.Fingerprint == fingerprint ? cached.Quality : null;
        }
        catch (JsonException)
        {
            return null;   // a damaged cache is measured again and replaced
        }
    }

    /// <summary>Writes this quality with <paramref name="fingerprint"/> to <paramref name="path"/>, atomically.</summary>
    public void Save(string path, string fingerprint) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new CachedTokenizerQuality(fingerprint, this), Options));

    const long MaxCacheBytes = 64 << 10;

    sealed record CachedTokenizerQuality(string Fingerprint, TokenizerQuality Quality);
}
