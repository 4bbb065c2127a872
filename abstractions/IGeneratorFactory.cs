namespace IAR.Abstractions;

/// <summary>Builds generators (with fresh weights; the host loads checkpoints into <see cref="IGenerator.Module"/>).</summary>
public interface IGeneratorFactory : IModelFactory
{
    GeneratorKind Kind { get; }

    /// <exception cref="ConfigurationException">Unknown preset or option, or a tokenizer it cannot work with.</exception>
    IGenerator Create(GeneratorRequest request);
}
