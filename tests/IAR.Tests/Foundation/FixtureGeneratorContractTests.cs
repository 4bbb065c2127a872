using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

/// <summary>
/// The contract base classes run against a plugin the host has never seen (built by the tests), over the contract
/// tests' default stub tokenizer.
/// </summary>
public sealed class FixtureGeneratorContractTests : GeneratorContractTests
{
    protected override IGenerator CreateGenerator(int seed, ITokenizer tokenizer) => FixturePluginCatalog.Generator(seed, tokenizer);
}
