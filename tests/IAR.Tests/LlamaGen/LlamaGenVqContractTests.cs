using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;

namespace IAR.Tests.LlamaGen;

/// <summary>The tokenizer contract on VQ-T for 3×16×16 images (an 8×8 grid).</summary>
public class LlamaGenVqContractTests : TokenizerContractTests
{
    protected override ITokenizer CreateTokenizer(int seed)
    {
        torch.manual_seed(seed);
        return new VqTokenizerFactory().Create(new TokenizerRequest("VQ-T", new Dictionary<string, string>(), new ImageShape(3, 16, 16)));
    }
}
