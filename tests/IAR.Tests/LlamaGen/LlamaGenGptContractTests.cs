using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;

namespace IAR.Tests.LlamaGen;

/// <summary>The generator contract on GPT-T (official defaults, dropout included) over a VQ-T token grid.</summary>
public class LlamaGenGptContractTests : GeneratorContractTests
{
    static readonly ITokenizer SharedTokenizer = new VqTokenizerFactory().Create(
        new TokenizerRequest("VQ-T", new Dictionary<string, string>(), new ImageShape(1, 8, 8)));

    protected override ITokenizer CreateTokenizer() => SharedTokenizer;

    protected override IGenerator CreateGenerator(int seed, ITokenizer tokenizer)
    {
        torch.manual_seed(seed);
        // The official head init is zero: every logit ties, so greedy decoding would be a random draw. A small random
        // head keeps the KV-cache/recompute agreement meaningful; everything else is the preset as shipped.
        return new GptGeneratorFactory().Create(new GeneratorRequest("GPT-T",
            new Dictionary<string, string> { ["output_init_std"] = "0.02" }, tokenizer, 7));
    }
}
