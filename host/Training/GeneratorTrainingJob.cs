using IAR.Abstractions;
using IAR.Host.Experiments;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// Everything needed to train one arm × seed: built by an <see cref="IGeneratorJobFactory"/> (the baseline one, or
/// the lead's IAR one), consumed unchanged by the generator stage and the <see cref="Trainer"/>.
/// </summary>
/// <param name="Arm">The arm's name (metrics <c>arm</c>).</param>
/// <param name="Seed">The seed of this run of the arm (metrics <c>seed</c>; initialisation, batches and draws derive from it).</param>
/// <param name="Plan">The arm and its resolved spec.</param>
/// <param name="Generator">Built for <see cref="ArmVocabulary.Tokenizer"/>, initialised (pretrained weights loaded and, for IAR, permuted), on the run's device.</param>
/// <param name="LossTerms">The terms of Σ weight·term: <c>token_ce</c>, plus <c>cluster_ce</c> for IAR.</param>
/// <param name="Vocabulary">The tokenizer view and the tokens in the generator's index space.</param>
/// <param name="TokenizerHash">The content hash of the tokenizer the caches were encoded with.</param>
/// <param name="Folder">Where checkpoints and <c>generator.safetensors</c> go: <c>arms/&lt;arm&gt;/seed-&lt;seed&gt;</c>.</param>
/// <param name="LabelDrop">Probability of dropping a label (0 when the generator has no null class).</param>
/// <param name="Config">The job's identity text (<see cref="TrainingConfigText.ForGenerator"/>); checkpoints of another are refused.</param>
/// <param name="MeasurementClusters">
/// int64 [V]: the cluster of every index of this job's numbering under the run's reference clustering, so that the
/// cluster accuracy of every arm is measured against the same clusters; null when the run measures none.
/// </param>
public sealed record GeneratorTrainingJob(
    string Arm, int Seed, ArmPlan Plan, IGenerator Generator, IReadOnlyList<ILossTerm> LossTerms, ArmVocabulary Vocabulary,
    string TokenizerHash, string Folder, double LabelDrop, string Config, Tensor? MeasurementClusters = null)
{
    public const string WeightsFile = "generator.safetensors";

    public TrainingSpec Training => Plan.Spec.Training;

    /// <summary>The final weights (EMA when training.ema &gt; 0).</summary>
    public string WeightsPath => Path.Combine(Folder, WeightsFile);

    /// <summary>e.g. <c>generator baseline seed 0</c>.</summary>
    public string Label => $"generator {Arm} seed {Seed}";
}
