using System.Globalization;
using System.Text.Json;
using IAR.Abstractions;
using IAR.Host.Serialization;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// Builds LlamaGen models for a parity case the way a user would: through the plugin factories, with the case's
/// official constructor arguments as options, then loads its official-key weights through StateDict.
/// </summary>
internal static class LlamaGenParityModels
{
    /// <summary>config.json keys of the official GPT ModelArgs that are not options (data-derived or unused for c2i).</summary>
    static readonly string[] GptDataKeys = ["vocab_size", "num_classes", "block_size", "cls_token_num", "model_type",
        "caption_dim", "max_batch_size", "max_seq_len", "cluster_size"];

    /// <summary>config.json keys that are Encoder/Decoder arguments given by the image or fixed in our implementation.</summary>
    static readonly string[] VqImageKeys = ["in_channels", "out_channels", "norm_type"];

    public static GptGenerator Gpt(ParityCase c)
    {
        var config = c.Config;
        Require(config.GetProperty("model_type").GetString() == "c2i", c, "model_type must be c2i");
        Require(config.GetProperty("cls_token_num").GetInt32() == 1, c, "cls_token_num must be 1");
        int vocab = config.GetProperty("vocab_size").GetInt32();
        int side = (int)Math.Round(Math.Sqrt(config.GetProperty("block_size").GetInt32()));
        // A tokenizer with the case's vocabulary and a side×side grid (VQ-T downsamples by 2).
        var tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-T",
            new Dictionary<string, string> { ["codebook_size"] = vocab.ToString(CultureInfo.InvariantCulture) },
            new ImageShape(3, 2 * side, 2 * side)));
        var request = new GeneratorRequest("GPT-T", Options(c, typeof(GptOptions), GptDataKeys), tokenizer,
            config.GetProperty("num_classes").GetInt32());
        var generator = (GptGenerator)new GptGeneratorFactory().Create(request);
        StateDict.Load(generator.Module, c.File_("weights.safetensors"), $"LlamaGen/GPT ({c.Name})");
        generator.Module.to(ParityCase.Device);
        return generator;
    }

    public static VqTokenizer Vq(ParityCase c, ImageShape image)
    {
        Require(c.Config.GetProperty("norm_type").GetString() == "group", c, "norm_type must be group");
        Require(c.Config.GetProperty("in_channels").GetInt32() == image.Channels && c.Config.GetProperty("out_channels").GetInt32() == image.Channels,
            c, "in_channels and out_channels must equal the image channels");
        var request = new TokenizerRequest("VQ-T", Options(c, typeof(VqOptions), VqImageKeys), image);
        var tokenizer = (VqTokenizer)new VqTokenizerFactory().Create(request);
        StateDict.Load(tokenizer.Module, c.File_("weights.safetensors"), $"LlamaGen/VQ ({c.Name})");
        tokenizer.Module.to(ParityCase.Device);
        return tokenizer;
    }

    /// <summary>config.json entries as option overrides; every key must be an option or explicitly accounted for.</summary>
    static Dictionary<string, string> Options(ParityCase c, Type optionsType, string[] accountedFor)
    {
        var known = PresetOptions.Describe(Activator.CreateInstance(optionsType)!).Select(o => o.Key).ToHashSet();
        var options = new Dictionary<string, string>();
        foreach (var p in c.Config.EnumerateObject())
        {
            if (known.Contains(p.Name)) options[p.Name] = Text(p.Value);
            else Require(accountedFor.Contains(p.Name), c, $"config key '{p.Name}' is neither an option of {optionsType.Name} nor handled");
        }
        return options;
    }

    static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.Array => string.Join(",", value.EnumerateArray().Select(Text)),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    static void Require(bool ok, ParityCase c, string what)
    {
        if (!ok) throw new InvalidDataException($"Parity case {c.Dir}: {what}.");
    }
}
