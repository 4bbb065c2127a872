using IAR.Abstractions;
using IAR.ContractTests;

namespace IAR.Tests.VAR;

/// <summary>The tokenizer contract on VQVAE-T (seeded builds compare weights, so not beside other tests).</summary>
public sealed class VqVaeTokenizerContractTests : TokenizerContractTests
{
    protected override ITokenizer CreateTokenizer(int seed) => VarTestModels.Tokenizer(seed);
}
