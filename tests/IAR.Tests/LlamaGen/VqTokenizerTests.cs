using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.LlamaGen;

public class VqTokenizerTests
{
    [Theory]
    [InlineData(1, 28, 7)]
    [InlineData(3, 32, 8)]
    public void VQ_S_gives_small_grids_for_small_images(int channels, int side, int grid)
    {
        torch.manual_seed(0);
        var tok = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), new ImageShape(channels, side, side)));
        Assert.Equal(TokenLayout.Grid(grid, grid), tok.Info.Layout);
        Assert.Equal(1024, tok.Info.VocabularySize);
        Assert.Equal(8, tok.Info.CodeDim);
        tok.Module.eval();
        var images = ContractSeeds.Images(2, tok.Info.Image);
        Assert.Equal(images.shape, tok.Decode(tok.Encode(images)).shape);
    }

    [Fact]
    public void State_dict_has_the_official_key_layout()
    {
        var keys = LlamaGenTestModels.Tokenizer(options: new Dictionary<string, string> { ["codebook_show_usage"] = "true" }).Module.state_dict().Keys.ToHashSet();
        foreach (var key in new[]
                 {
                     "encoder.conv_in.weight", "encoder.conv_blocks.0.res.0.norm1.weight", "encoder.conv_blocks.0.downsample.conv.weight",
                     "encoder.conv_blocks.1.res.0.nin_shortcut.weight", "encoder.conv_blocks.1.attn.0.q.weight", "encoder.conv_blocks.1.attn.0.proj_out.bias",
                     "encoder.mid.0.conv1.weight", "encoder.mid.1.k.weight", "encoder.mid.2.norm2.bias", "encoder.norm_out.weight", "encoder.conv_out.weight",
                     "decoder.conv_in.weight", "decoder.mid.1.v.weight", "decoder.conv_blocks.0.attn.1.norm.weight", "decoder.conv_blocks.0.upsample.conv.weight",
                     "decoder.conv_blocks.1.res.1.conv2.weight", "decoder.conv_blocks.1.res.0.nin_shortcut.weight", "decoder.norm_out.bias", "decoder.conv_out.bias",
                     "quantize.embedding.weight", "quantize.codebook_used", "quant_conv.weight", "post_quant_conv.bias",
                 })
            Assert.Contains(key, keys);
        // The deepest level (encoder level 1, decoder block 0) has no resampling; in = out channels has no shortcut.
        Assert.DoesNotContain("encoder.conv_blocks.1.downsample.conv.weight", keys);
        Assert.DoesNotContain("decoder.conv_blocks.1.upsample.conv.weight", keys);
        Assert.DoesNotContain("encoder.conv_blocks.0.res.0.nin_shortcut.weight", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("decoder.conv_blocks.1.attn", StringComparison.Ordinal));
    }

    [Fact]
    public void Lookup_returns_the_unit_code_vectors_that_encode_chose_and_decode_consumes()
    {
        var tok = LlamaGenTestModels.Tokenizer();
        tok.Module.eval();
        var images = ContractSeeds.Images(2, tok.Info.Image);
        var tokens = tok.Encode(images);                                                     // [B, 16]
        var codes = tok.LookupCodes(tokens);                                                 // [B, 16, 8]
        TensorAssert.Close(torch.ones(2, 16), codes.norm(-1), 1e-6, 1e-6, "code norms");
        var quantized = tok.Network.Encode(images, withLosses: false).Quantized;             // [B, 8, 4, 4]
        TensorAssert.Close(quantized.flatten(2).transpose(1, 2), codes, 1e-6, 1e-6, "quantized latent vs looked-up codes");
        var decoded = tok.Network.Decode(codes.transpose(1, 2).reshape(2, 8, 4, 4)).clamp(-1, 1);
        TensorAssert.Close(decoded, tok.Decode(tokens), 1e-6, 1e-6, "decode from looked-up codes");
    }

    [Fact]
    public void Encode_picks_the_nearest_code_on_the_unit_sphere()
    {
        var tok = LlamaGenTestModels.Tokenizer(seed: 3);
        tok.Module.eval();
        var images = ContractSeeds.Images(2, tok.Info.Image);
        var latent = nn.functional.normalize(tok.Network.PreQuant(images).permute(0, 2, 3, 1).reshape(-1, 8), 2, -1);   // [32, 8]
        var codebook = nn.functional.normalize(tok.Codebook, 2, -1);                          // [V, 8]
        var nearest = torch.cdist(latent, codebook).argmin(-1);
        TensorAssert.Identical(nearest, tok.Encode(images).flatten());
    }

    [Fact]
    public void Permuting_the_codebook_renumbers_tokens_without_changing_images()
    {
        var tok = LlamaGenTestModels.Tokenizer(seed: 5);
        tok.Module.eval();
        var images = ContractSeeds.Images(2, tok.Info.Image);
        var tokens = tok.Encode(images);
        var decoded = tok.Decode(tokens);
        var newToOld = torch.randperm(tok.Info.VocabularySize, generator: new torch.Generator(1));
        var oldToNew = newToOld.argsort();
        using (torch.no_grad())
            foreach (var p in tok.VocabularyParameters) p.Tensor.copy_(p.Tensor.index_select(p.Axis, newToOld));
        var renumbered = tok.Encode(images);
        TensorAssert.Identical(oldToNew.index_select(0, tokens.flatten()).view_as(tokens), renumbered);
        TensorAssert.Close(decoded, tok.Decode(renumbered), 1e-6, 1e-6, "decoded images");
    }

    [Fact]
    public void Training_losses_have_official_names_weights_and_values()
    {
        var tok = LlamaGenTestModels.Tokenizer(options: new Dictionary<string, string> { ["commit_loss_beta"] = "0.3", ["entropy_loss_ratio"] = "0.1" });
        Assert.Equal(new[] { ("reconstruction_l2", 1.0), ("codebook", 1.0), ("commitment", 0.3), ("entropy", 0.1) },
            tok.TrainingLossTerms.Select(t => (t.Name, t.Weight)));
        tok.Module.train();
        var images = ContractSeeds.Images(2, tok.Info.Image);
        var output = tok.Reconstruct(images);
        double Term(string name) => tok.TrainingLossTerms.Single(t => t.Name == name).Compute(images, output).item<float>();
        TensorAssert.Close((output.Reconstruction - images).square().mean().item<float>(), Term("reconstruction_l2"), atol: 1e-6, rtol: 0);
        // codebook and commitment are the same distance with the gradient sent to different sides.
        TensorAssert.Close(Term("codebook"), Term("commitment"), atol: 1e-6, rtol: 0);
        Assert.True(double.IsFinite(Term("entropy")));
        Assert.DoesNotContain(LlamaGenTestModels.Tokenizer().TrainingLossTerms, t => t.Name == "entropy");
    }

    [Fact]
    public void A_few_training_steps_reduce_the_loss()
    {
        var tok = LlamaGenTestModels.Tokenizer(seed: 1);
        tok.Module.train();
        var images = ContractSeeds.Images(4, tok.Info.Image);
        var optimizer = torch.optim.Adam(tok.Module.parameters(), 2e-3);
        double Step()
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var output = tok.Reconstruct(images);
            var loss = tok.TrainingLossTerms.Select(t => t.Compute(images, output) * t.Weight).Aggregate((a, b) => a + b);
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        }
        double first = Step();
        double last = first;
        for (int i = 0; i < 30; i++) last = Step();
        Assert.True(last < 0.7 * first, $"loss {first} → {last}");
    }

    [Fact]
    public void Codebook_usage_counts_distinct_codes_and_their_perplexity()
    {
        var usage = CodebookUsage.Of(torch.tensor(new long[] { 0, 0, 1, 1, 3, 3, 3, 3 }), 8);
        Assert.Equal(3, usage.UsedCodes);
        Assert.Equal(3.0 / 8, usage.Fraction);
        Assert.Equal(Math.Exp(-(0.25 * Math.Log(0.25) * 2 + 0.5 * Math.Log(0.5))), usage.Perplexity, 9);
    }

    [Fact]
    public void The_official_usage_ring_records_indices_chosen_in_training_only()
    {
        var tok = LlamaGenTestModels.Tokenizer(options: new Dictionary<string, string> { ["codebook_show_usage"] = "true" });
        Assert.Equal(1.0 / 64, tok.RecentUsage());                                            // all zeros: index 0
        var images = ContractSeeds.Images(2, tok.Info.Image);
        tok.Module.eval();
        tok.Reconstruct(images);
        Assert.Equal(1.0 / 64, tok.RecentUsage());
        tok.Module.train();
        var tokens = tok.Reconstruct(images).Tokens;
        var ring = tok.Module.state_dict()["quantize.codebook_used"];
        TensorAssert.Identical(tokens.flatten().to(ScalarType.Float32), ring[^32..], "newest ring entries");
        Assert.Equal(CodebookUsage.Of(torch.cat([tokens.flatten(), torch.zeros(1, ScalarType.Int64)]), 64).Fraction, tok.RecentUsage());
        Assert.Null(LlamaGenTestModels.Tokenizer().RecentUsage());
    }

    [Fact]
    public void Images_and_tokens_of_the_wrong_shape_are_rejected_clearly()
    {
        var tok = LlamaGenTestModels.Tokenizer();
        var e = Assert.Throws<ArgumentException>(() => tok.Encode(torch.zeros(2, 3, 8, 8)));
        Assert.Contains("[B, 1, 8, 8]", e.Message);
        e = Assert.Throws<ArgumentException>(() => tok.Decode(torch.zeros([2, 15], ScalarType.Int64)));
        Assert.Contains("[B, 16]", e.Message);
        e = Assert.Throws<ArgumentException>(() => tok.Decode(torch.full([2, 16], 64L, ScalarType.Int64)));
        Assert.Contains("[0, 64)", e.Message);
        Assert.Throws<ArgumentException>(() => tok.LookupCodes(torch.tensor(new long[] { -1 })));
    }

    [Theory]
    [InlineData("VQ-T", 1, 9, 8, "multiples of the downsample factor 2")]
    [InlineData("VQ-S", 1, 28, 30, "multiples of the downsample factor 4")]
    public void Image_sizes_that_do_not_fit_the_levels_are_configuration_errors(string preset, int c, int h, int w, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() =>
            new VqTokenizerFactory().Create(new TokenizerRequest(preset, new Dictionary<string, string>(), new ImageShape(c, h, w))));
        Assert.Contains(expected, e.Message);
        Assert.Contains($"{h}x{w}", e.Message);
    }

    [Theory]
    [InlineData("ch", "48", "norm_groups = 32")]
    [InlineData("decoder_ch_mult", "1,2,2", "as many positive multipliers as encoder_ch_mult")]
    [InlineData("codebook_size", "0", "codebook_size = 0")]
    [InlineData("dropout_p", "1", "dropout_p = 1")]
    [InlineData("codebok_size", "8", "codebok_size is not an option")]
    public void Bad_options_are_configuration_errors_naming_the_key(string key, string value, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => LlamaGenTestModels.Tokenizer(options: new Dictionary<string, string> { [key] = value }));
        Assert.Contains(expected, e.Message);
    }
}
