using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.TinyGpt;
using TorchSharp;

namespace TinyGpt.Tests;

/// <summary>
/// Every generator contract check, run on the "tiny" preset over the contract tests' stub tokenizer (24 codes on a
/// 4×4 grid). Seeded as the host seeds: torch.manual_seed right before the factory's Create.
/// </summary>
public sealed class TinyGptContractTests : GeneratorContractTests
{
    protected override IGenerator CreateGenerator(int seed, ITokenizer tokenizer)
    {
        torch.manual_seed(seed);
        return new TinyGptFactory().Create(new GeneratorRequest("tiny", new Dictionary<string, string>(), tokenizer, NumClasses: 3));
    }
}
