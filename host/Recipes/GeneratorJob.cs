using IAR.Host.Runs;
using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Data;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Plugins;
using IAR.Host.Serialization;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Recipes;

/// <summary>
/// The index space a job's generator works in, the product of the rearrange step: the tokenizer as the generator sees
/// it, the cached tokens in that numbering, and the permutation and cluster layout (null for the original numbering).
/// </summary>
/// <param name="MeasurementClusters">
/// int64 [V]: the cluster of every index of this numbering under the run's reference clustering, so every arm's cluster
/// accuracy is measured against the same clusters; null when the run measures none.
/// </param>
public sealed record ArmVocabulary(
    ITokenizer Tokenizer, ITokenSource Train, ITokenSource HeldOut, RearrangementPlan? Plan, Tensor? MeasurementClusters) : IDisposable
{
    /// <summary><c>identity</c> or the permutation's hash; recorded in every checkpoint of the job.</summary>
    public string Permutation => Plan?.Permutation.Hash ?? TokenCache.IdentityPermutation;

    public void Dispose()
    {
        // The rearranged views are this job's; the shared caches and tokenizer belong to the prepared run.
        (Train as RearrangedTokenSource)?.Dispose();
        (HeldOut as RearrangedTokenSource)?.Dispose();
        MeasurementClusters?.Dispose();
    }
}

/// <summary>
/// One job: rearrange → generator → train (token CE + λ·cluster CE) with evaluation → release. Everything it needs
/// comes from the prepared run and the arm's spec, everything it makes goes to its folder: <c>permutation.safetensors</c>
/// (IAR arms), <c>checkpoints/</c>, <c>generator.safetensors</c>, <c>metrics.jsonl</c>, and its samples. A finished job is
/// loaded, not trained again; an interrupted one resumes from its newest checkpoint.
/// </summary>
public static class GeneratorJob
{
    public static TrainingOutcome Run(JobId job, Experiment experiment, PreparedRun prepared, RunEnvironment env)
    {
        // training.precision: auto resolved for this device; the job's configuration (and so its checkpoints) records
        // the precision it resolved to, so that a resume on a machine that resolves otherwise is refused, naming the key.
        var spec = experiment.Arm(job.Arm).Spec;
        var precision = PrecisionChoice.Resolve(spec.Training.Precision, env.Device.type, CpuMatrixUnits.Current);
        spec = spec with { Training = spec.Training with { Precision = precision.Setting } };
        var folder = env.Run.File(job.Folder);
        var label = $"generator {job.Arm} seed {job.Seed}";
        var metrics = new MetricsLog(Path.Combine(folder, RunLayout.MetricsFile), runDirectory: env.Run.Path);   // this job's lines only

        // 1. Rearrange: balanced k-means over the codebook (IAR arms), identity for the baseline.
        using var vocabulary = Rearrange(job, spec.Iar, experiment, prepared, folder, env);

        // 2. The generator, built for the tokenizer in the job's numbering, from the same seed for every arm; released
        //    (parameters; the optimizer state inside the trainer) when the job has been evaluated.
        var generator = Generator(spec, job.Seed, vocabulary, precision.Precision, env);
        using var release = generator.Module;

        // 3. The loss: L = token CE + λ·cluster CE over the rearranged clusters (IAR arms; λ = 0 logs the term without
        //    training on it) + the extra terms of training.loss.
        var loss = GeneratorLoss.For(spec, vocabulary.Plan?.Layout, env.Catalog.LossTerms);

        // 4. Train, evaluating every evaluation.every steps and at the last step.
        var trainer = new Trainer(new TrainerSettings
        {
            Training = spec.Training,
            Seed = job.Seed,
            Folder = folder,
            WeightsFile = Path.Combine(folder, RunLayout.GeneratorWeightsFile),
            Config = TrainingConfigText.ForGenerator(spec, job.Arm, job.Seed),
            Tags = new Dictionary<string, object> { ["stage"] = "generator", ["arm"] = job.Arm, ["seed"] = job.Seed },
            Label = label,
            Permutation = vocabulary.Permutation,
            Tokenizer = prepared.TokenizerHash,
            Device = env.Device,
            Group = env.Group,
            Metrics = env.Writes ? metrics : null,
            Log = env.Log,
            Cancellation = env.Cancellation,
            Evaluate = step => Evaluate(job, step, spec, generator, vocabulary, prepared.Evaluation, metrics, env),
            EvaluateEvery = spec.Evaluation.Every,
        });
        env.Log.Info($"   {label}: {generator.Info.Plugin}/{generator.Info.Preset}, " +
                     $"{generator.Module.parameters().Sum(p => p.NumberOfElements):N0} parameters, " +
                     $"loss {loss}, precision {precision}, " +
                     $"permutation {vocabulary.Permutation}");
        return trainer.Run(new GeneratorObjective(generator, vocabulary.Train, loss, spec.Training.LabelDrop, env.Device));
    }

    /// <summary>
    /// The job's numbering. IAR arms (<c>iar.enabled</c>): the codebook rearranged with the arm's <c>iar</c> section,
    /// seeded by the job's seed, written to <c>permutation.safetensors</c>; the generator sees a
    /// <see cref="RearrangedTokenizer"/> and the shared token cache rearranged through old_to_new (no re-encoding).
    /// Every job also measures cluster accuracy against the reference clustering (balanced k-means with the top-level
    /// <c>iar</c> settings) in its own numbering.
    /// </summary>
    static ArmVocabulary Rearrange(JobId job, IarSpec iar, Experiment experiment, PreparedRun prepared, string folder, RunEnvironment env)
    {
        var live = LiveCodes.Of(prepared.TrainTokens);   // the training tokens decide which codes are live
        var reference = ReferencePlan(job, experiment, prepared, live, env);
        var referenceOfOriginal = reference?.ClusterOfOriginalIndex();   // int64 [V]
        if (!iar.Enabled)
            return new ArmVocabulary(prepared.Tokenizer, prepared.TrainTokens, prepared.HeldOutTokens, null, referenceOfOriginal);

        // Plans are deterministic in (clustering settings, codebook, seed): an arm with the reference's settings reuses it.
        var plan = reference is not null && ClusteringKey(iar) == ClusteringKey(ReferenceSettings(experiment))
            ? reference
            : Plan(iar, prepared.Tokenizer, job.Seed, live);
        var permutation = plan.Permutation;
        if (env.Writes)
        {
            Directory.CreateDirectory(folder);
            plan.Save(Path.Combine(folder, RunLayout.PermutationFile));
        }
        var stats = plan.Stats;
        env.Log.Info(string.Create(CultureInfo.InvariantCulture,
            $"   generator {job.Arm} seed {job.Seed}: {stats.Method} clustering into {plan.Layout}, within-cluster error {stats.ErrorBefore:G4} → {stats.ErrorAfter:G4}, " +
            $"{stats.Iterations} iterations{(stats.Converged ? "" : " (not converged)")}, {stats.TotalTime.TotalSeconds:F2} s; " +
            $"{stats.Health}{(stats.Health is { DeadCodes: > 0 } && stats.Method == ClusteringMethod.BalancedKmeans ? $" (dead codes {iar.DeadCodes.ToString().ToLowerInvariant()})" : "")}; permutation {permutation.Hash}"));

        var tokenizer = ArmModels.InArmNumbering(prepared.Tokenizer, permutation);
        // The reference cluster of new index i is that of the original code new_to_old[i].
        Tensor? measurement;
        using (referenceOfOriginal) measurement = referenceOfOriginal?.index_select(0, permutation.NewToOldTensor());
        if (permutation.IsIdentity)
            return new ArmVocabulary(tokenizer, prepared.TrainTokens, prepared.HeldOutTokens, plan, measurement);
        var oldToNew = permutation.OldToNewTensor();   // cached by the permutation; the sources copy it
        return new ArmVocabulary(tokenizer,
            new RearrangedTokenSource(prepared.TrainTokens, oldToNew, permutation.Hash),
            new RearrangedTokenSource(prepared.HeldOutTokens, oldToNew, permutation.Hash),
            plan, measurement);
    }

    /// <summary>The clustering every arm's cluster accuracy is measured against: balanced k-means with the top-level <c>iar</c> settings.</summary>
    public static IarSpec ReferenceSettings(Experiment experiment) =>
        experiment.Spec.Iar with { Clustering = ClusteringMethod.BalancedKmeans, Permutation = null };

    /// <summary>
    /// The reference plan of the job's seed; null (cluster metrics not measured, said in the log) when no arm uses IAR
    /// and the top-level <c>iar</c> settings do not fit the vocabulary, e.g. a baseline-only run of a tiny tokenizer.
    /// </summary>
    static RearrangementPlan? ReferencePlan(JobId job, Experiment experiment, PreparedRun prepared, LiveCodes live, RunEnvironment env)
    {
        try
        {
            return Plan(ReferenceSettings(experiment), prepared.Tokenizer, job.Seed, live);
        }
        catch (ConfigurationException e) when (!experiment.Arms.Any(a => a.Spec.Iar.Enabled))
        {
            env.Log.Warn($"cluster accuracy is not measured: the top-level iar settings do not fit this tokenizer ({e.Message})");
            return null;
        }
    }

    /// <summary>Only the settings that shape the clustering (not λ or smoothing, not whether the arm trains with it).</summary>
    static IarSpec ClusteringKey(IarSpec settings) => settings with { Enabled = true, Lambda = 0, LabelSmoothing = 0 };

    static RearrangementPlan Plan(IarSpec settings, ITokenizer tokenizer, int seed, LiveCodes live)
    {
        using var codebook = tokenizer.Codebook.detach().cpu();
        return CodebookRearrangement.Plan(settings, codebook, (ulong)seed,
            $"the codebook of tokenizer {tokenizer.Info.Plugin}/{tokenizer.Info.Preset}", live);
    }

    /// <summary>
    /// The generator through its plugin, the global torch generator seeded with the job's seed right before the factory
    /// (so every arm with that seed starts from the same weights); <c>generator.checkpoint</c> loaded in its original
    /// numbering, then its vocabulary tensors rearranged into the job's.
    /// </summary>
    static IGenerator Generator(ExperimentSpec spec, int seed, ArmVocabulary vocabulary, Precision precision, RunEnvironment env)
    {
        torch.manual_seed(seed);
        var generator = ArmModels.PretrainedGenerator(spec, vocabulary.Tokenizer, vocabulary.Train.NumClasses, vocabulary.Plan?.Permutation, env.Catalog);
        try
        {
            generator.Module.to(env.Device);
            // training.precision: forward and sampling in bf16 with fp32 weights (the generator itself for fp32)
            return MixedPrecisionGenerator.Wrap(generator, precision);
        }
        catch
        {
            generator.Module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Samples and scores the generator (<see cref="GeneratorEvaluator"/>), runs the held-out token loop with the
    /// reference clusters, and appends one <c>stage: eval</c> line to metrics.jsonl; at the last step it also writes the
    /// sample grid and the ADM archive. Called by the trainer with the EMA weights in and the global RNG restored after.
    /// </summary>
    static void Evaluate(JobId job, long step, ExperimentSpec spec, IGenerator generator, ArmVocabulary vocabulary,
        EvaluationResources? resources, MetricsLog metrics, RunEnvironment env)
    {
        // Cluster-aware sampling (when asked for) draws clusters of the reference clustering in the job's numbering.
        var evaluator = new GeneratorEvaluator(spec.Evaluation, spec.Sampling.ToOptions(vocabulary.MeasurementClusters), resources);
        HeldOutTokens? heldOut = null;
        try
        {
            TokenPredictionAccumulator? accumulator = null;
            if (spec.Evaluation.Metrics.Contains(ImageMetric.TokenMetrics))
            {
                using var all = torch.arange((long)vocabulary.HeldOut.Count);
                var batch = vocabulary.HeldOut.Gather(all);
                heldOut = new HeldOutTokens(batch.Tokens, batch.Labels);
                if (vocabulary.MeasurementClusters is { } clusters) accumulator = new TokenPredictionAccumulator(clusters);
            }
            using var evaluation = evaluator.Evaluate(job.Arm, job.Seed, step, generator, vocabulary.Tokenizer, heldOut, accumulator);
            metrics.Append(evaluation.Record);
            env.Log.Info($"   eval generator {job.Arm} seed {job.Seed} step {step}: {Describe(evaluation.Record)}");
            if (step >= spec.Training.Steps)
                evaluator.WriteSamples(env.Run.Path, job.Arm, job.Seed, generator, vocabulary.Tokenizer, evaluation.Samples, step);
        }
        finally
        {
            heldOut?.Tokens.Dispose();
            heldOut?.Labels.Dispose();
        }
    }

    static string Describe(IReadOnlyDictionary<string, object?> record) => string.Join(", ",
        record.Where(kv => kv.Value is double).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {(double)kv.Value!:G4}")));
}
