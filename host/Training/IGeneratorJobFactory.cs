using IAR.Host.Experiments;

namespace IAR.Host.Training;

/// <summary>
/// Builds the training job of one arm × seed. The pipeline's <see cref="Stages.GeneratorTrainingStage"/> takes one;
/// <see cref="BaselineGeneratorJobFactory"/> trains every arm with the original numbering and token cross-entropy,
/// an IAR factory returns rearranged vocabularies and adds the cluster term for arms with <c>iar.enabled</c>.
/// </summary>
public interface IGeneratorJobFactory
{
    GeneratorTrainingJob Create(RunContext context, ArmPlan arm, int seed);
}
