namespace IAR.Abstractions;

/// <summary>Builds tokenizers (with fresh weights; the host loads checkpoints into <see cref="ITokenizer.Module"/>).</summary>
public interface ITokenizerFactory : IModelFactory
{
    /// <exception cref="ConfigurationException">Unknown preset or option, or an image shape it cannot handle.</exception>
    ITokenizer Create(TokenizerRequest request);
}
