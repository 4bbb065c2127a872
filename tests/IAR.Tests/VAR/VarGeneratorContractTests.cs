using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.VAR;

namespace IAR.Tests.VAR;

/// <summary>
/// The generator contract on VAR-T. Every generator shares one VQVAE-T: VAR's forward depends on its tokenizer, which
/// is outside the generator's state dict (as official), so the round-trip check needs the same tokenizer on both sides.
/// </summary>
public sealed class VarGeneratorContractTests : GeneratorContractTests
{
    static readonly Lazy<VqVaeTokenizer> SharedTokenizer = new(() =>
    {
        var tokenizer = VarTestModels.Tokenizer(0);
        tokenizer.Module.eval();
        return tokenizer;
    });

    protected override ITokenizer CreateTokenizer() => SharedTokenizer.Value;

    protected override IGenerator CreateGenerator(int seed, ITokenizer tokenizer) => VarTestModels.Generator(seed, tokenizer);
}
