using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Host.Training;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// What <see cref="EvaluationResources.Create"/> computes — the reference features [N, D] of the training images, the
/// real-image Inception Score and the noise floors — kept in one file of the run folder
/// (<c>evaluation/reference.safetensors</c>), so that every process of a run (<c>--workers</c>, <c>--job</c>, a Slurm
/// task) loads them instead of passing every image through the extractor again.
/// </summary>
/// <remarks>
/// The file records a fingerprint of everything the values depend on (the images, the extractor's weights, the
/// evaluation batch size, the seed and sample counts of the floors); a file with another fingerprint, or one that does
/// not read, is recomputed and replaced. Loaded values are bit-identical to computed ones: the features are stored as
/// computed (float32) and the statistics derive from them as before; the doubles go through JSON, which round-trips them.
/// </remarks>
/// <param name="Path">The cache file.</param>
/// <param name="DataFingerprint">The training and held-out images' fingerprints (<see cref="IAR.Host.Data.ImageDataset.Fingerprint"/>).</param>
public sealed record EvaluationResourcesCache(string Path, string DataFingerprint)
{
    const string FeaturesKey = "reference_features";
    const string FingerprintKey = "iar.evaluation.fingerprint";
    const string SummaryKey = "iar.evaluation.summary";
    const string FloorsKey = "iar.evaluation.noise_floors";
    const int FormatVersion = 1;

    /// <summary>A hash of what the cached values depend on.</summary>
    public string Fingerprint(IFeatureExtractor extractor, EvaluationSpec evaluation, int seed, IReadOnlyCollection<int> floorSampleCounts)
    {
        string identity = extractor is ClassifierFeatureExtractor c
            ? ModelFingerprint.Of(c.Model, c.Description)
            : $"{extractor.GetType().FullName}: {extractor.Description}";
        var text = string.Join("\n",
            $"format {FormatVersion}", $"data {DataFingerprint}", $"extractor {identity}",
            $"batch {evaluation.BatchSize.ToString(CultureInfo.InvariantCulture)}", $"seed {seed.ToString(CultureInfo.InvariantCulture)}",
            $"floors {string.Join(",", floorSampleCounts.Order())} draws {NoiseFloor.DefaultDraws} offset {EvaluationResources.NoiseFloorSeedOffset}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>The cached values when the file exists and holds <paramref name="fingerprint"/>'s; null otherwise, with <paramref name="why"/>.</summary>
    public (ReferenceFeatures Reference, FeatureExtractorSummary Summary, NoiseFloors Floors)? TryLoad(string fingerprint, out string why)
    {
        if (!File.Exists(Path))
        {
            why = "not cached yet";
            return null;
        }
        try
        {
            var file = SafeTensorsFile.Open(Path);
            if (file.Metadata.GetValueOrDefault(FingerprintKey) != fingerprint)
            {
                why = $"{Path} was computed from other inputs (fingerprint {file.Metadata.GetValueOrDefault(FingerprintKey, "none")}, now {fingerprint})";
                return null;
            }
            var summary = FeatureExtractorSummary.FromJson(file.Metadata[SummaryKey], Path);
            var floors = NoiseFloors.FromJson(file.Metadata[FloorsKey], Path);
            var features = file.Load(FeaturesKey);
            if (features.dim() != 2 || features.dtype != ScalarType.Float32)
            {
                features.Dispose();
                why = $"{Path} holds reference features of shape [{string.Join(", ", features.shape)}], not float32 [N, D]";
                return null;
            }
            why = "";
            return (ReferenceFeatures.FromFeatures(features), summary, floors);
        }
        catch (Exception e) when (e is InvalidDataException or KeyNotFoundException or ArgumentException or IOException)
        {
            why = $"{Path} does not read ({e.Message})";
            return null;
        }
    }

    /// <summary>Writes the values with <paramref name="fingerprint"/> (atomically).</summary>
    public void Save(string fingerprint, ReferenceFeatures reference, FeatureExtractorSummary summary, NoiseFloors floors) =>
        SafeTensorsWriter.Write(Path, [new(FeaturesKey, reference.Features)], new Dictionary<string, string>
        {
            [FingerprintKey] = fingerprint, [SummaryKey] = summary.ToJson(), [FloorsKey] = floors.ToJson(),
        });
}
