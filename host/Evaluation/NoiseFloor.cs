using System.Text.Json;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// The FID noise floor at one sample count N: the FID of N <b>real held-out</b> images against the reference
/// statistics (the real training images), over a few seeded draws. It is what a perfect generator would score with N
/// samples — the finite-N bias (the mean) and the sampling noise of one FID estimate (the spread) — so an FID
/// difference between arms smaller than that noise says nothing.
/// </summary>
/// <remarks>
/// Held-out images, not training images: the reference is built from every training image, so a draw of training images
/// would share its images with the reference and score too low; held-out images are, like generated ones, new draws
/// from the data distribution. Draws are disjoint (a seeded permutation cut into blocks of N) when the held-out set
/// holds at least two blocks; with fewer (N ≤ held-out &lt; 2N) they are overlapping seeded subsets, which shrinks the
/// spread, and <see cref="Disjoint"/> says so. With fewer than N held-out images no floor is measured at that N
/// (<see cref="Fids"/> is empty and <see cref="Note"/> says why). Two draws (2N ≤ held-out &lt; 3N, e.g. N = 1000 of
/// 2000) give the floor's level but no usable spread: a standard deviation from two values is as likely 0.001 as 0.05, so
/// <see cref="HasSpread"/> is false and the report sets no margin from it.
/// </remarks>
/// <param name="SampleCount">N, the images per draw: the evaluation's <c>num_samples</c>.</param>
/// <param name="HeldOutImages">Size of the held-out set the draws come from.</param>
/// <param name="ReferenceImages">Real training images the reference statistics come from.</param>
/// <param name="Fids">One FID per draw (empty when not measured).</param>
/// <param name="Disjoint">Whether no held-out image appears in two draws.</param>
/// <param name="Seed">Seed of the draws' permutation.</param>
/// <param name="Note">Why no floor was measured, or null.</param>
public sealed record NoiseFloor(int SampleCount, long HeldOutImages, long ReferenceImages, IReadOnlyList<double> Fids, bool Disjoint, ulong Seed,
    string? Note = null)
{
    /// <summary>Draws per floor: enough for a spread, few enough that a bundled held-out split of 2000 gives disjoint draws of 400.</summary>
    public const int DefaultDraws = 5;

    /// <summary>Draws a spread is estimated from; with fewer the floor gives its level only.</summary>
    public const int MinimumDrawsForSpread = 3;

    public bool Measured => Fids.Count >= 2;

    /// <summary>Whether there are enough draws for <see cref="StandardDeviation"/> and <see cref="Margin"/> to mean anything.</summary>
    public bool HasSpread => Fids.Count >= MinimumDrawsForSpread;

    public double Mean => Fids.Count == 0 ? double.NaN : Fids.Average();

    /// <summary>Sample standard deviation of the draws' FIDs: the sampling noise of one N-sample FID.</summary>
    public double StandardDeviation => Fids.Count < 2 ? double.NaN : Math.Sqrt(Fids.Sum(f => (f - Mean) * (f - Mean)) / (Fids.Count - 1));

    public double Min => Fids.Count == 0 ? double.NaN : Fids.Min();

    public double Max => Fids.Count == 0 ? double.NaN : Fids.Max();

    /// <summary>
    /// The smallest FID difference between two N-sample evaluations that is beyond sampling noise: two standard
    /// deviations of a difference of two independent estimates, each as noisy as the floor's, = 2·√2·sd.
    /// </summary>
    public double Margin => 2 * Math.Sqrt(2) * StandardDeviation;

    /// <summary>
    /// Measures the floor at <paramref name="sampleCount"/>: each draw's N held-out images go through
    /// <paramref name="extractor"/> and their statistics are compared with <paramref name="reference"/>.
    /// </summary>
    /// <param name="heldOut">float [T, C, H, W] in [-1, 1]: real images not in the reference.</param>
    /// <param name="referenceImages">How many real images <paramref name="reference"/> summarises (recorded).</param>
    public static NoiseFloor Measure(IFeatureExtractor extractor, FeatureStatistics reference, long referenceImages, Tensor heldOut,
        int sampleCount, ulong seed, int draws = DefaultDraws, int batchSize = 256)
    {
        if (sampleCount < 2) throw new ArgumentOutOfRangeException(nameof(sampleCount), sampleCount, "a covariance needs at least 2 images per draw");
        if (draws < 2) throw new ArgumentOutOfRangeException(nameof(draws), draws, "a spread needs at least 2 draws");
        long total = heldOut.shape[0];
        if (total < sampleCount)
            return new NoiseFloor(sampleCount, total, referenceImages, [], false, seed,
                $"the held-out split has {total} images, fewer than the {sampleCount} an evaluation samples");
        long blocks = total / sampleCount;
        bool disjoint = blocks >= 2;
        int count = disjoint ? (int)Math.Min(draws, blocks) : draws;
        using var random = new torch.Generator(seed);
        using var order = torch.randperm(total, generator: random);                              // [T]
        var fids = new double[count];
        for (int d = 0; d < count; d++)
        {
            using var scope = torch.NewDisposeScope();
            var index = disjoint
                ? order.narrow(0, (long)d * sampleCount, sampleCount)                                // block d of the permutation
                : torch.randperm(total, generator: random).narrow(0, 0, sampleCount);               // an overlapping subset
            using var extracted = extractor.Extract(heldOut.index_select(0, index), batchSize);
            using var statistics = FeatureStatistics.FromFeatures(extracted.Features);
            fids[d] = FrechetDistance.Compute(statistics, reference);
        }
        return new NoiseFloor(sampleCount, total, referenceImages, fids, disjoint, seed);
    }

    /// <summary>
    /// "2.31 ± 0.18 (5 disjoint draws of 400 real held-out images out of 2000; min 2.07, max 2.52)"; "0.07 (2 disjoint
    /// draws …; too few for a spread)"; or why it was not measured.
    /// </summary>
    public string Describe() => Measured
        ? FormattableString.Invariant(
            $"{Level} ({Fids.Count} {(Disjoint ? "disjoint" : "overlapping")} draws of {SampleCount} real held-out images out of {HeldOutImages}; min {Min:F2}, max {Max:F2}{(HasSpread ? "" : "; too few for a spread")})")
        : $"not measured at N = {SampleCount}: {Note ?? "fewer than two draws"}";

    /// <summary>"2.31 ± 0.18" with a spread, "0.07" without.</summary>
    public string Level => HasSpread ? FormattableString.Invariant($"{Mean:F2} ± {StandardDeviation:F2}") : FormattableString.Invariant($"{Mean:F2}");
}

/// <summary>The noise floors of a run, one per evaluation sample count: <c>evaluation/noise_floor.json</c>, read by the report.</summary>
public sealed record NoiseFloors(IReadOnlyList<NoiseFloor> Floors)
{
    // Named literals: an unmeasured floor's mean and spread are NaN, written for a reader as "NaN".
    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The floor at <paramref name="sampleCount"/>, or null when none was computed for it.</summary>
    public NoiseFloor? At(int sampleCount) => Floors.FirstOrDefault(f => f.SampleCount == sampleCount);

    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson());

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>The floors in <paramref name="path"/>, or null when the file does not exist (a run from before floors, or without FID).</summary>
    /// <exception cref="InvalidDataException">The file is not a noise-floor file.</exception>
    public static NoiseFloors? Read(string path) => File.Exists(path) ? FromJson(File.ReadAllText(path), path) : null;

    /// <param name="source">Where <paramref name="json"/> comes from, for the error.</param>
    /// <exception cref="InvalidDataException">The text is not a noise-floor file.</exception>
    public static NoiseFloors FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<NoiseFloors>(json, Options)
                   ?? throw new InvalidDataException($"{source} is empty; a noise-floor file was expected.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not a noise-floor file ({e.Message}).", e);
        }
    }
}
