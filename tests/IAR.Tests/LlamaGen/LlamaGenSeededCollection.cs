namespace IAR.Tests.LlamaGen;

/// <summary>
/// LlamaGen tests build models after <c>torch.manual_seed</c>, and the global generator is shared by the whole
/// process: run them on their own, after the parallel tests, so that no other test draws from it in between.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LlamaGenSeededCollection
{
    public const string Name = "LlamaGen (global RNG)";
}
