using IAR.Abstractions;
using IAR.Plugins.VAR;
using TorchSharp;

namespace IAR.Tests.VAR;

/// <summary>The official presets have exactly the official parameter counts (built on the meta device: no memory).</summary>
public class VarParameterCountTests
{
    static readonly ImageShape ImageNet256 = new(3, 256, 256);

    static long OnMetaDevice(Func<ITokenizer, torch.nn.Module> build)
    {
        var previous = torch.get_default_device();
        torch.set_default_device(torch.META);
        try
        {
            var tokenizer = new VqVaeTokenizerFactory().Create(
                new TokenizerRequest("vae_ch160v4096z32", new Dictionary<string, string>(), ImageNet256));
            var module = build(tokenizer);
            Assert.All(module.parameters(), p => Assert.True(p.is_meta, "a parameter was allocated"));
            return module.parameters().Sum(p => p.numel());
        }
        finally
        {
            torch.set_default_device(previous);
        }
    }

    [Fact]
    public void The_official_VQVAE_has_108_948_355_parameters() =>
        Assert.Equal(108_948_355, OnMetaDevice(tokenizer => tokenizer.Module));

    [Fact]
    public void VAR_d16_for_ImageNet_has_310_283_520_parameters() =>
        Assert.Equal(310_283_520, OnMetaDevice(tokenizer => new VarGeneratorFactory()
            .Create(new GeneratorRequest("d16", new Dictionary<string, string>(), tokenizer, 1000)).Module));
}
