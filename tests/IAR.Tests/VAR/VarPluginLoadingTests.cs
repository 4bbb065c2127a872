using IAR.Abstractions;
using IAR.Host.Plugins;
using IAR.Tests.Support;
using TorchSharp;

namespace IAR.Tests.VAR;

/// <summary>The built VAR plugin, loaded by the host's catalog as in <c>iar run</c>, works end to end.</summary>
public class VarPluginLoadingTests
{
    [Fact]
    public void The_host_loads_VAR_and_its_generator_finds_the_VQVAE_through_the_plugin_boundary()
    {
        var catalog = PluginCatalog.Load(RepoPaths.BuiltPlugins);
        torch.manual_seed(0);
        var tokenizer = catalog.TokenizerFactory("VAR", "VQVAE-T")
            .Create(new TokenizerRequest("VQVAE-T", new Dictionary<string, string>(), VarTestModels.Image));
        var generator = catalog.GeneratorFactory("VAR", "VAR-T")
            .Create(new GeneratorRequest("VAR-T", new Dictionary<string, string>(), tokenizer, 3));
        tokenizer.Module.eval();
        generator.Module.eval();
        using var scope = torch.NewDisposeScope();
        var tokens = generator.Generate(torch.tensor(new long[] { 0, 2 }), new SamplingOptions(CfgScale: 1.5), new torch.Generator(1));
        Assert.Equal(new long[] { 2, 30 }, tokens.shape);
        Assert.Equal(new long[] { 2, 1, 32, 32 }, tokenizer.Decode(tokens).shape);
    }
}
