using IAR.Abstractions;
using IAR.Plugins.VAR;
using IAR.Tests.Support;

namespace IAR.Tests.VAR;

/// <summary>User mistakes get one clear sentence naming the key or value.</summary>
public class VarConfigurationTests
{
    static readonly Dictionary<string, string> None = new();

    [Fact]
    public void An_image_size_the_scales_do_not_fit_names_v_patch_nums()
    {
        var e = Assert.Throws<ConfigurationException>(() =>
            new VqVaeTokenizerFactory().Create(new TokenizerRequest("VQVAE-S", None, new ImageShape(1, 28, 28))));
        Assert.Contains("v_patch_nums", e.Message);
        Assert.Contains("28px", e.Message);
    }

    [Theory]
    [InlineData("ch", "48", "multiple of 32")]
    [InlineData("v_patch_nums", "1,3,2,4", "strictly increasing")]
    [InlineData("num_res_blocks", "0", "num_res_blocks")]
    [InlineData("vocab_sz", "12", "accepted: vocab_size")]
    public void Bad_tokenizer_options_are_named(string key, string value, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() =>
            new VqVaeTokenizerFactory().Create(new TokenizerRequest("VQVAE-T", new Dictionary<string, string> { [key] = value }, VarTestModels.Image)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Bad_generator_options_and_presets_are_named()
    {
        var tokenizer = VarTestModels.Tokenizer(0);
        var factory = new VarGeneratorFactory();
        var e = Assert.Throws<ConfigurationException>(() => factory.Create(
            new GeneratorRequest("VAR-T", new Dictionary<string, string> { ["embed_dim"] = "63" }, tokenizer, 4)));
        Assert.Contains("embed_dim = 63", e.Message);
        e = Assert.Throws<ConfigurationException>(() => factory.Create(new GeneratorRequest("d17", None, tokenizer, 4)));
        Assert.Contains("d16", e.Message);
    }

    [Fact]
    public void A_tokenizer_of_another_plugin_is_refused()
    {
        var other = FixturePluginCatalog.Tokenizer(0);
        var e = Assert.Throws<ConfigurationException>(() => new VarGeneratorFactory().Create(new GeneratorRequest("VAR-T", None, other, 4)));
        Assert.Contains("FixturePlugin/tiny", e.Message);
    }

    [Fact]
    public void The_small_presets_fit_32px_data()
    {
        var tokenizer = new VqVaeTokenizerFactory().Create(new TokenizerRequest("VQVAE-S", None, new ImageShape(1, 32, 32)));
        Assert.Equal(130, tokenizer.Info.Layout.SequenceLength);
        var generator = new VarGeneratorFactory().Create(new GeneratorRequest("VAR-S", None, tokenizer, 10));
        Assert.Equal(GeneratorKind.NextScale, generator.Info.Kind);
        Assert.Equal(tokenizer.Info.Layout, generator.Info.Layout);
    }
}
