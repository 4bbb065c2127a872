using IAR.Abstractions;
using IAR.ContractTests;

namespace IAR.Tests.Foundation;

/// <summary>The contract tests' stub tokenizer keeps the tokenizer contract itself, on one grid and on several scales.</summary>
public sealed class StubTokenizerContractTests : TokenizerContractTests
{
    protected override ITokenizer CreateTokenizer(int seed) => StubTokenizer.Grid(16, 4, 4);
}

public sealed class MultiScaleStubTokenizerContractTests : TokenizerContractTests
{
    protected override ITokenizer CreateTokenizer(int seed) => new StubTokenizer(32, TokenLayout.MultiScale([1, 2, 4]));
}
