using System.Text.Json;
using IAR.Abstractions;
using IAR.Host.Serialization;
using IAR.Plugins.VAR;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// Builds the VAR plugin's models from a parity case's config.json (official constructor arguments). Like the LlamaGen
/// side, every key must be an option it sets or one it accounts for; any other key fails the case by name instead of
/// being silently ignored.
/// </summary>
internal static class VarParityConfig
{
    /// <summary>VQVAE keys read by <see cref="Tokenizer"/>, plus test_mode (it only freezes the official module's parameters).</summary>
    static readonly string[] TokenizerKeys = ["vocab_size", "z_channels", "ch", "ch_mult", "num_res_blocks", "v_patch_nums", "dropout",
        "beta", "using_znorm", "quant_conv_ks", "quant_resi", "share_quant_resi", "default_qresi_counts", "using_sa", "using_mid_sa",
        "double_z", "in_channels", "test_mode"];

    /// <summary>
    /// VAR keys read by <see cref="Generator"/>, plus flash_if_available/fused_if_available (kernel choices of the same
    /// math; the fixtures use the plain path), init_weights (how the stored weights were made) and vae (the tokenizer's).
    /// </summary>
    static readonly string[] GeneratorKeys = ["depth", "embed_dim", "num_heads", "mlp_ratio", "drop_rate", "attn_drop_rate", "drop_path_rate",
        "norm_eps", "shared_aln", "attn_l2_norm", "patch_nums", "num_classes", "cond_drop_rate", "flash_if_available", "fused_if_available",
        "init_weights", "vae"];

    /// <summary>The VQVAE of a <c>var-vqvae</c> config (or <c>var-forward</c>'s <c>vae</c> entry), weights loaded.</summary>
    public static VqVaeTokenizer Tokenizer(JsonElement config, int imageSide, string weights, string where)
    {
        RejectUnknown(config, where, TokenizerKeys);
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
        if (config.GetProperty("double_z").GetBoolean()) throw new InvalidDataException($"{where}: double_z = true is not accepted; VAR's VQVAE uses double_z = false.");
        var image = new ImageShape(config.GetProperty("in_channels").GetInt32(), imageSide, imageSide);
        var tokenizer = new VqVaeTokenizer(options, "parity", image);
        StateDict.Load(tokenizer.Module, weights, "VAR VQVAE (parity)");
        return tokenizer;
    }

    /// <summary>The VAR transformer of a <c>var-forward</c> config, generating for <paramref name="tokenizer"/>, weights loaded.</summary>
    public static VarGenerator Generator(JsonElement config, ITokenizer tokenizer, string weights, string where)
    {
        RejectUnknown(config, where, GeneratorKeys);
        // The official training forward replaces labels by the null class with this probability (torch.rand): only 0 is reproducible.
        if (config.GetProperty("cond_drop_rate").GetDouble() != 0)
            throw new InvalidDataException($"{where}: cond_drop_rate = {config.GetProperty("cond_drop_rate").GetRawText()} drops labels at random in the official forward; only 0 is accepted.");
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
            throw new InvalidDataException($"{where}: patch_nums differ from the VQVAE's v_patch_nums.");
        var generator = new VarGenerator(options, "parity",
            new GeneratorRequest("parity", new Dictionary<string, string>(), tokenizer, config.GetProperty("num_classes").GetInt32()));
        StateDict.Load(generator.Module, weights, "VAR transformer (parity)");
        return generator;
    }

    static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>Fails naming the first key of <paramref name="config"/> outside <paramref name="known"/>, and the accepted keys.</summary>
    static void RejectUnknown(JsonElement config, string where, string[] known)
    {
        foreach (var p in config.EnumerateObject())
            if (!known.Contains(p.Name, StringComparer.Ordinal))
                throw new InvalidDataException($"{where}: key '{p.Name}' is not accepted; known keys: {string.Join(", ", known)}.");
    }
}
