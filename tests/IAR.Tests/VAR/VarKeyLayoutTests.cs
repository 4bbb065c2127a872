using IAR.Plugins.VAR;
using TorchSharp;

namespace IAR.Tests.VAR;

/// <summary>
/// State-dict keys of the variants the parity fixtures do not cover (they pin the default variant key by key):
/// shared AdaLN, the φ sharing modes, attention without L2 norm, layers without attention.
/// </summary>
public class VarKeyLayoutTests
{
    static Dictionary<string, long[]> Keys(torch.nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    [Fact]
    public void Shared_adaln_has_one_projection_and_a_per_block_offset()
    {
        var keys = Keys(VarTestModels.Generator(0, options: new Dictionary<string, string> { ["shared_aln"] = "true" }).Module);
        Assert.Equal(new long[] { 6 * 64, 64 }, keys["shared_ada_lin.1.weight"]);
        Assert.Equal(new long[] { 1, 1, 6, 64 }, keys["blocks.0.ada_gss"]);
        Assert.DoesNotContain("blocks.0.ada_lin.1.weight", keys.Keys);
    }

    [Fact]
    public void Unshared_adaln_and_cosine_attention_keys_are_official()
    {
        var keys = Keys(VarTestModels.Generator(0).Module);
        Assert.Equal(new long[] { 6 * 64, 64 }, keys["blocks.1.ada_lin.1.weight"]);
        Assert.Equal(new long[] { 1, 2, 1, 1 }, keys["blocks.0.attn.scale_mul_1H11"]);
        Assert.Equal(new long[] { 64 }, keys["blocks.0.attn.zero_k_bias"]);
        Assert.Equal(new long[] { 2 * 64, 64 }, keys["head_nm.ada_lin.1.weight"]);
        Assert.Equal(new long[] { 1, 30 }, keys["lvl_1L"]);
        Assert.Equal(new long[] { 1, 1, 30, 30 }, keys["attn_bias_for_masking"]);
        Assert.DoesNotContain(keys.Keys, k => k.StartsWith("shared_ada_lin", StringComparison.Ordinal));

        var plain = Keys(VarTestModels.Generator(0, options: new Dictionary<string, string> { ["attn_l2_norm"] = "false" }).Module);
        Assert.DoesNotContain("blocks.0.attn.scale_mul_1H11", plain.Keys);
    }

    [Theory]
    [InlineData("0", "quantize.quant_resi.3.weight", "quantize.quant_resi.4.weight")]        // one φ per scale (4 scales)
    [InlineData("1", "quantize.quant_resi.qresi.weight", "quantize.quant_resi.qresi_ls.0.weight")]
    [InlineData("2", "quantize.quant_resi.qresi_ls.1.bias", "quantize.quant_resi.qresi_ls.2.bias")]
    public void Phi_sharing_modes_have_the_official_keys(string share, string present, string absent)
    {
        var keys = Keys(VarTestModels.Tokenizer(0, new Dictionary<string, string> { ["share_quant_resi"] = share }).Module);
        Assert.Contains(present, keys.Keys);
        Assert.DoesNotContain(absent, keys.Keys);
    }

    [Fact]
    public void A_zero_residual_ratio_makes_phi_the_identity_without_keys()
    {
        var keys = Keys(VarTestModels.Tokenizer(0, new Dictionary<string, string> { ["quant_resi"] = "0" }).Module);
        Assert.DoesNotContain(keys.Keys, k => k.Contains("quant_resi", StringComparison.Ordinal));
    }

    [Fact]
    public void Decoder_levels_are_indexed_by_resolution_and_only_the_deepest_has_attention()
    {
        var keys = Keys(VarTestModels.Tokenizer(0, new Dictionary<string, string> { ["using_sa"] = "true", ["ch_mult"] = "1,2,2,2" }).Module);
        Assert.Equal(new long[] { 64, 32, 1, 1 }, keys["encoder.down.1.block.0.nin_shortcut.weight"]);
        Assert.Contains("encoder.down.3.attn.0.qkv.weight", keys.Keys);
        Assert.DoesNotContain("encoder.down.3.downsample.conv.weight", keys.Keys);
        Assert.Contains("decoder.up.3.attn.1.proj_out.weight", keys.Keys);       // up.3 is the deepest level
        Assert.DoesNotContain("decoder.up.0.upsample.conv.weight", keys.Keys);   // up.0 is full resolution
        Assert.Equal(new long[] { 32, 64, 1, 1 }, keys["decoder.up.0.block.0.nin_shortcut.weight"]);
        Assert.Equal(new long[] { 4, 64 }, keys["quantize.ema_vocab_hit_SV"]);   // [scales, V]
    }
}
