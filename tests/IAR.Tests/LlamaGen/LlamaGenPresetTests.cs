using IAR.Abstractions;
using IAR.Plugins.LlamaGen;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using Microsoft.Extensions.DependencyInjection;

namespace IAR.Tests.LlamaGen;

/// <summary>Presets, options and parameter counts (counted on the meta device: no memory, no time).</summary>
public class LlamaGenPresetTests
{
    [Fact]
    public void The_plugin_registers_both_factories_with_the_agreed_preset_names()
    {
        var services = new ServiceCollection();
        new LlamaGenPlugin().ConfigureServices(services);
        using var provider = services.BuildServiceProvider();
        var vq = Assert.Single(provider.GetServices<ITokenizerFactory>());
        var gpt = Assert.Single(provider.GetServices<IGeneratorFactory>());
        Assert.Equal("VQ", vq.Name);
        Assert.Equal("GPT", gpt.Name);
        Assert.Equal(GeneratorKind.NextToken, gpt.Kind);
        Assert.Equal(["VQ-16", "VQ-8", "VQ-S", "VQ-T"], vq.Presets.Select(p => p.Name));
        Assert.Equal(["GPT-B", "GPT-L", "GPT-XL", "GPT-XXL", "GPT-XXXL", "GPT-3B", "GPT-S", "GPT-T"], gpt.Presets.Select(p => p.Name));
    }

    // ImageNet 256²: VQ-16 gives a 16×16 grid over 16384 codes; 1000 classes plus the null class.
    [Theory]
    [InlineData("GPT-B", 110_888_448L)]
    [InlineData("GPT-L", 342_910_976L)]
    [InlineData("GPT-XL", 774_699_520L)]
    [InlineData("GPT-XXL", 1_410_972_672L)]
    [InlineData("GPT-XXXL", 3_893_027_840L)]
    [InlineData("GPT-3B", 3_096_659_200L)]
    public void Official_GPT_presets_have_the_official_parameter_counts(string preset, long parameters) =>
        Assert.Equal(parameters, new GptGeneratorFactory().ParameterCount(preset, 16384, 1000, new GridSize(16, 16)));

    [Theory]
    [InlineData("VQ-16", 71_883_403L)]
    [InlineData("VQ-8", 70_109_835L)]
    public void Official_VQ_presets_have_the_official_parameter_counts(string preset, long parameters) =>
        Assert.Equal(parameters, new VqTokenizerFactory().ParameterCount(preset, 3));

    [Fact]
    public void The_official_VQ_16_keeps_the_usage_buffer_that_official_checkpoints_carry()
    {
        var options = (VqOptions)new VqTokenizerFactory().Presets.Single(p => p.Name == "VQ-16").Options;
        Assert.True(options.CodebookShowUsage);
        Assert.Equal((128, 2, 256, 16384, 8), (options.Ch, options.NumResBlocks, options.ZChannels, options.CodebookSize, options.CodebookEmbedDim));
    }

    [Fact]
    public void Every_size_is_an_option_with_a_snake_case_key()
    {
        var gpt = PresetOptions.Describe(new GptOptions()).Select(o => o.Key).ToHashSet();
        foreach (var key in new[] { "dim", "n_layer", "n_head", "n_kv_head", "multiple_of", "ffn_dim_multiplier", "rope_base", "norm_eps",
                     "initializer_range", "token_dropout_p", "attn_dropout_p", "resid_dropout_p", "ffn_dropout_p", "drop_path_rate", "class_dropout_prob" })
            Assert.Contains(key, gpt);
        var vq = PresetOptions.Describe(new VqOptions()).Select(o => o.Key).ToHashSet();
        foreach (var key in new[] { "codebook_size", "codebook_embed_dim", "codebook_l2_norm", "codebook_show_usage", "commit_loss_beta",
                     "entropy_loss_ratio", "encoder_ch_mult", "decoder_ch_mult", "z_channels", "dropout_p", "ch", "num_res_blocks", "norm_groups", "resamp_with_conv" })
            Assert.Contains(key, vq);
    }

    [Fact]
    public void Options_override_the_preset()
    {
        var g = LlamaGenTestModels.Generator(options: new Dictionary<string, string> { ["dim"] = "32", ["n_head"] = "2", ["multiple_of"] = "32" });
        Assert.Equal(new long[] { 3 * 32, 32 }, g.Module.state_dict()["layers.0.attention.wqkv.weight"].shape);
        Assert.Equal(new long[] { 96, 32 }, g.Module.state_dict()["layers.0.feed_forward.w1.weight"].shape);   // find_multiple(85, 32)
        Assert.Equal(new long[] { 32, 96 }, g.Module.state_dict()["layers.0.feed_forward.w2.weight"].shape);
    }

    [Theory]
    [InlineData("n_head", "3", "divide dim = 64")]
    [InlineData("n_head", "32", "multiple of 4")]
    [InlineData("n_kv_head", "3", "divide n_head = 4")]
    [InlineData("class_dropout_prob", "1", "class_dropout_prob = 1")]
    [InlineData("width", "64", "width is not an option")]
    [InlineData("dim", "big", "not a valid integer")]
    public void Bad_GPT_options_are_configuration_errors_naming_the_key(string key, string value, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => LlamaGenTestModels.Generator(options: new Dictionary<string, string> { [key] = value }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Unknown_presets_list_the_available_ones()
    {
        var e = Assert.Throws<ConfigurationException>(() => new GptGeneratorFactory().Create(
            new GeneratorRequest("GPT-M", new Dictionary<string, string>(), LlamaGenTestModels.Tokenizer(), 3)));
        Assert.Contains("GPT-B", e.Message);
        e = Assert.Throws<ConfigurationException>(() => new VqTokenizerFactory().Create(
            new TokenizerRequest("VQ-32", new Dictionary<string, string>(), new ImageShape(3, 32, 32))));
        Assert.Contains("VQ-16", e.Message);
    }

    [Fact]
    public void A_multi_scale_tokenizer_is_a_configuration_error()
    {
        var e = Assert.Throws<ConfigurationException>(() => new GptGeneratorFactory().Create(
            new GeneratorRequest("GPT-T", new Dictionary<string, string>(), new MultiScaleLayoutTokenizer(), 3)));
        Assert.Contains("multi-scale", e.Message);
    }

    /// <summary>Only its Info is read: a VAR-like layout the GPT cannot predict.</summary>
    sealed class MultiScaleLayoutTokenizer : ITokenizer
    {
        public TokenizerInfo Info { get; } = new("VAR", "VQVAE-T", 64, 8, TokenLayout.MultiScale([1, 2, 3, 4]), new ImageShape(3, 16, 16));
        public TorchSharp.torch.nn.Module Module => throw new NotSupportedException();
        public TorchSharp.torch.Tensor Codebook => throw new NotSupportedException();
        public IReadOnlyList<VocabularyParameter> VocabularyParameters => throw new NotSupportedException();
        public IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms => throw new NotSupportedException();
        public TorchSharp.torch.Tensor Encode(TorchSharp.torch.Tensor images) => throw new NotSupportedException();
        public TorchSharp.torch.Tensor Decode(TorchSharp.torch.Tensor tokens) => throw new NotSupportedException();
        public TorchSharp.torch.Tensor LookupCodes(TorchSharp.torch.Tensor tokens) => throw new NotSupportedException();
        public TokenizerOutput Reconstruct(TorchSharp.torch.Tensor images) => throw new NotSupportedException();
    }
}
