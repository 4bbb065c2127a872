using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Clustering;
using IAR.Host.Data;
using IAR.Host.Decorators;
using IAR.Host.Experiments;
using IAR.Host.Losses;
using IAR.Host.Training.Stages;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// The job factory of <c>iar run</c>. Arms with <c>iar.enabled</c> get the method: the tokenizer's codebook is
/// rearranged (<see cref="CodebookRearrangement"/> with the arm's <c>iar</c> section, seeded by the run seed), the
/// generator is built for the <see cref="RearrangedTokenizer"/>, trains on the shared token cache renumbered through
/// old_to_new (no re-encoding), has pretrained vocabulary rows permuted into the new numbering, and adds
/// <see cref="ClusterCrossEntropy"/> with weight λ (λ = 0 logs the term without training on it: rearrangement alone).
/// Other arms are the baseline. The permutation is written to <c>arms/&lt;arm&gt;/seed-&lt;seed&gt;/permutation.safetensors</c>
/// and its hash into every checkpoint, so a resumed arm whose clustering came out differently is refused.
/// <para>
/// Every job also carries the run's <em>reference clusters</em> in its own numbering, so cluster accuracy and the
/// wrong-top-1-in-right-cluster rate of the baseline and of every ablation are measured against the same clusters:
/// balanced k-means with the top-level <c>iar</c> settings (cluster size or count, normalisation, ordering, iterations),
/// which are also what an arm's <c>iar</c> overlay starts from; an arm with the same settings uses the same clusters.
/// </para>
/// </summary>
public sealed class IarGeneratorJobFactory : BaselineGeneratorJobFactory
{
    public const string PermutationFile = "permutation.safetensors";

    // Plans are deterministic in (settings, codebook, seed): arms and the reference share them instead of clustering twice.
    readonly Dictionary<(IarSpec Settings, int Seed), RearrangementPlan> plans = [];
    bool referenceUnavailableSaid;

    public override GeneratorTrainingJob Create(RunContext context, ArmPlan arm, int seed)
    {
        var referenceOfOriginal = Reference(context, seed)?.ClusterOfOriginalIndex();   // int64 [V], a fresh tensor
        var iar = arm.Spec.Iar;
        if (!iar.Enabled)
            return Create(context, arm, seed, ArmVocabulary.Original(context), [], afterPretrainedLoad: null)
                with { MeasurementClusters = referenceOfOriginal };

        var plan = Plan(context, iar, seed);
        var permutation = plan.Permutation;
        var vocabulary = Rearranged(context, permutation);
        var job = Create(context, arm, seed, vocabulary,
            [new ClusterCrossEntropy(plan.Layout, iar.Lambda, iar.LabelSmoothing)],
            afterPretrainedLoad: g => VocabularyRenumbering.Rearrange(g.VocabularyParameters, permutation));
        Directory.CreateDirectory(job.Folder);
        plan.Save(Path.Combine(job.Folder, PermutationFile));
        var stats = plan.Stats;
        context.Log.Info(string.Create(CultureInfo.InvariantCulture,
            $"   {job.Label}: {stats.Method} clustering into {plan.Layout}, within-cluster error {stats.ErrorBefore:G4} → {stats.ErrorAfter:G4}, " +
            $"{stats.Iterations} iterations{(stats.Converged ? "" : " (not converged)")}, {stats.TotalTime.TotalSeconds:F2} s; permutation {permutation.Hash}"));
        // The reference cluster of new index i is that of the original code new_to_old[i].
        using (referenceOfOriginal)
            return job with { MeasurementClusters = referenceOfOriginal?.index_select(0, permutation.NewToOldTensor()) };
    }

    /// <summary>
    /// The reference plan of <paramref name="seed"/>; null (cluster metrics not measured, said once) when no arm uses
    /// IAR and the top-level <c>iar</c> settings do not fit the vocabulary, e.g. a baseline-only run of a tiny tokenizer.
    /// </summary>
    RearrangementPlan? Reference(RunContext context, int seed)
    {
        try
        {
            return Plan(context, ReferenceSettings(context.Experiment), seed);
        }
        catch (ConfigurationException e) when (!context.Experiment.Arms.Any(a => a.Spec.Iar.Enabled))
        {
            if (!referenceUnavailableSaid)
                context.Log.Warn($"cluster accuracy is not measured: the top-level iar settings do not fit this tokenizer ({e.Message})");
            referenceUnavailableSaid = true;
            return null;
        }
    }

    /// <summary>The clustering every arm's cluster accuracy is measured against: balanced k-means with the top-level <c>iar</c> settings.</summary>
    public static IarSpec ReferenceSettings(Experiment experiment) =>
        experiment.Spec.Iar with { Clustering = ClusteringMethod.BalancedKmeans, Permutation = null };

    RearrangementPlan Plan(RunContext context, IarSpec settings, int seed)
    {
        // Only the settings that shape the clustering are part of the key.
        var key = (settings with { Enabled = true, Lambda = 0, LabelSmoothing = 0 }, seed);
        if (!plans.TryGetValue(key, out var plan))
        {
            var tokenizer = StageItems.TokenizerOf(context);
            using var codebook = tokenizer.Codebook.detach().cpu();
            plans[key] = plan = CodebookRearrangement.Plan(settings, codebook, (ulong)seed,
                $"the codebook of tokenizer {tokenizer.Info.Plugin}/{tokenizer.Info.Preset}");
        }
        return plan;
    }

    static ArmVocabulary Rearranged(RunContext context, CodebookPermutation permutation)
    {
        var original = ArmVocabulary.Original(context);
        if (permutation.IsIdentity) return original with { Tokenizer = new RearrangedTokenizer(original.Tokenizer, permutation) };
        var oldToNew = permutation.OldToNewTensor();   // cached by the permutation; the sources copy it
        return new ArmVocabulary(
            new RearrangedTokenizer(original.Tokenizer, permutation),
            new RemappedTokenSource(original.Train, oldToNew, permutation.Hash),
            new RemappedTokenSource(original.HeldOut, oldToNew, permutation.Hash),
            permutation.Hash);
    }
}
