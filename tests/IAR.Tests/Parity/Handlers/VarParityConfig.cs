using System.Text.Json;
using IAR.Abstractions;
using IAR.Host.Serialization;
using IAR.Plugins.VAR;

namespace IAR.Tests.Parity.Handlers;

/// <summary>Builds the VAR plugin's models from a parity case's config.json (official constructor arguments).</summary>
internal static class VarParityConfig
{
    /// <summary>The VQVAE of a <c>var-vqvae</c> config (or <c>var-forward</c>'s <c>vae</c> entry), weights loaded.</summary>
    public static VqVaeTokenizer Tokenizer(JsonElement config, int imageSide, string weights)
    {
        var options = new VqVaeOptions
        {
            VocabSize = config.GetProperty("vocab_size").GetInt32(),
            ZChannels = config.GetProperty("z_channels").GetInt32(),
            Ch = config.GetProperty("ch").GetInt32(),
            ChMult = Ints(config.GetProperty("ch_mult")),
            NumResBlocks = config.GetProperty("num_res_blocks").GetInt32(),
            VPatchNums = Ints(config.GetProperty("v_patch_nums")),
            Dropout = config.GetProperty("dropout").GetDouble(),
            Beta = config.GetProperty("beta").GetDouble(),
            UsingZnorm = config.GetProperty("using_znorm").GetBoolean(),
            QuantConvKs = config.GetProperty("quant_conv_ks").GetInt32(),
            QuantResi = config.GetProperty("quant_resi").GetDouble(),
            ShareQuantResi = config.GetProperty("share_quant_resi").GetInt32(),
            DefaultQresiCounts = config.GetProperty("default_qresi_counts").GetInt32(),
            UsingSa = config.GetProperty("using_sa").GetBoolean(),
            UsingMidSa = config.GetProperty("using_mid_sa").GetBoolean(),
        };
        if (config.GetProperty("double_z").GetBoolean()) throw new InvalidDataException("VAR's VQVAE uses double_z = False.");
        var image = new ImageShape(config.GetProperty("in_channels").GetInt32(), imageSide, imageSide);
        var tokenizer = new VqVaeTokenizer(options, "parity", image);
        StateDict.Load(tokenizer.Module, weights, "VAR VQVAE (parity)");
        return tokenizer;
    }

    /// <summary>The VAR transformer of a <c>var-forward</c> config, generating for <paramref name="tokenizer"/>, weights loaded.</summary>
    public static VarGenerator Generator(JsonElement config, ITokenizer tokenizer, string weights)
    {
        var options = new VarOptions
        {
            Depth = config.GetProperty("depth").GetInt32(),
            EmbedDim = config.GetProperty("embed_dim").GetInt32(),
            NumHeads = config.GetProperty("num_heads").GetInt32(),
            MlpRatio = config.GetProperty("mlp_ratio").GetDouble(),
            DropRate = config.GetProperty("drop_rate").GetDouble(),
            AttnDropRate = config.GetProperty("attn_drop_rate").GetDouble(),
            DropPathRate = config.GetProperty("drop_path_rate").GetDouble(),
            NormEps = config.GetProperty("norm_eps").GetDouble(),
            SharedAln = config.GetProperty("shared_aln").GetBoolean(),
            AttnL2Norm = config.GetProperty("attn_l2_norm").GetBoolean(),
        };
        var patchNums = Ints(config.GetProperty("patch_nums"));
        if (!patchNums.SequenceEqual(tokenizer.Info.Layout.Scales.Select(s => s.Height)))
            throw new InvalidDataException("The VAR config's patch_nums differ from its VQVAE's v_patch_nums.");
        var generator = new VarGenerator(options, "parity",
            new GeneratorRequest("parity", new Dictionary<string, string>(), tokenizer, config.GetProperty("num_classes").GetInt32()));
        StateDict.Load(generator.Module, weights, "VAR transformer (parity)");
        return generator;
    }

    static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
