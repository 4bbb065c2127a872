using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Tests.Support;

namespace IAR.Tests.Foundation;

/// <summary>The contract base classes run against a plugin the host has never seen (built by the tests).</summary>
public sealed class FixtureTokenizerContractTests : TokenizerContractTests
{
    protected override ITokenizer CreateTokenizer(int seed) => FixturePluginCatalog.Tokenizer(seed);
}
