using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Losses;
using IAR.Host.Serialization;
using TorchSharp;

namespace IAR.Host.Training;

/// <summary>
/// The baseline job of an arm: the generator built through its plugin for the original tokenizer, initialised
/// from the seed (the same initial weights for every arm with that seed), <c>generator.checkpoint</c> loaded when
/// given, trained with token cross-entropy (<c>training.label_smoothing</c>). An IAR factory reuses
/// <see cref="Create(RunContext, ArmPlan, int, ArmVocabulary, IReadOnlyList{ILossTerm}, Action{IGenerator}?)"/>
/// with its rearranged vocabulary, the cluster term, and a step that permutes pretrained vocabulary rows.
/// </summary>
public class BaselineGeneratorJobFactory : IGeneratorJobFactory
{
    public const string ArmsFolder = "arms";

    /// <exception cref="ConfigurationException">The arm enables IAR, which this factory does not implement.</exception>
    public virtual GeneratorTrainingJob Create(RunContext context, ArmPlan arm, int seed)
    {
        if (arm.Spec.Iar.Enabled)
            throw new ConfigurationException(
                $"Arm '{arm.Name}' sets iar.enabled, but the pipeline was built with the baseline generator job factory, which has no codebook rearrangement; " +
                "use the IAR job factory (RunPipeline) or set iar.enabled: false.");
        return Create(context, arm, seed, ArmVocabulary.Original(context), [], afterPretrainedLoad: null);
    }

    /// <summary>A job in any index space.</summary>
    /// <param name="vocabulary">The tokenizer view and tokens the generator works with.</param>
    /// <param name="extraTerms">Loss terms after token cross-entropy (e.g. IAR's cluster cross-entropy).</param>
    /// <param name="afterPretrainedLoad">
    /// Runs after <c>generator.checkpoint</c> is loaded (in the checkpoint's original numbering), e.g. to permute the
    /// vocabulary rows into <paramref name="vocabulary"/>'s numbering; not called without a checkpoint.
    /// </param>
    public GeneratorTrainingJob Create(RunContext context, ArmPlan arm, int seed, ArmVocabulary vocabulary,
        IReadOnlyList<ILossTerm> extraTerms, Action<IGenerator>? afterPretrainedLoad)
    {
        var spec = arm.Spec;
        var g = spec.Generator;
        var factory = context.Catalog.GeneratorFactory(g.Plugin, g.Preset);
        torch.manual_seed(seed);
        var generator = factory.Create(new GeneratorRequest(g.Preset, g.Options, vocabulary.Tokenizer, vocabulary.Train.NumClasses));
        if (g.Checkpoint is not null)
        {
            StateDict.Load(generator.Module, g.Checkpoint, $"generator {g.Plugin}/{g.Preset}");
            afterPretrainedLoad?.Invoke(generator);
        }
        generator.Module.to(context.Device);

        double labelDrop = spec.Training.LabelDrop;
        if (labelDrop > 0 && !generator.Info.SupportsGuidance)
        {
            context.Log.Warn($"{g.Plugin}/{g.Preset} has no null class, so training.label_drop = {labelDrop} is ignored for arm '{arm.Name}'.");
            labelDrop = 0;
        }
        IReadOnlyList<ILossTerm> terms = [new TokenCrossEntropy(1.0, spec.Training.LabelSmoothing), .. extraTerms];
        var folder = context.Run.File(Path.Combine(ArmsFolder, arm.Name, $"seed-{seed}"));
        return new GeneratorTrainingJob(arm.Name, seed, arm, generator, terms, vocabulary, Stages.StageItems.TokenizerHashOf(context),
            folder, labelDrop, TrainingConfigText.ForGenerator(spec, arm.Name, seed));
    }
}
