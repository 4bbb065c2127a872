using IAR.Abstractions;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>The options of a VQ tokenizer together with the image shape it is built for.</summary>
public sealed record VqConfig(VqOptions Options, ImageShape Image)
{
    /// <summary>GroupNorm epsilon, as officially.</summary>
    public const double NormEps = 1e-6;

    /// <summary>Image side / token-grid side: 2^(levels − 1).</summary>
    public int DownsampleFactor => 1 << (Options.EncoderChMult.Count - 1);

    public GridSize Grid => new(Image.Height / DownsampleFactor, Image.Width / DownsampleFactor);

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first option or image size that cannot work.</summary>
    public void Validate(string context)
    {
        var o = Options;
        Require(o.CodebookSize > 0, $"{context}.codebook_size = {o.CodebookSize} is invalid; a positive count is accepted.");
        Require(o.CodebookEmbedDim > 0, $"{context}.codebook_embed_dim = {o.CodebookEmbedDim} is invalid; a positive dimension is accepted.");
        Require(o.CommitLossBeta >= 0, $"{context}.commit_loss_beta = {o.CommitLossBeta} is invalid; a value ≥ 0 is accepted.");
        Require(o.EntropyLossRatio >= 0, $"{context}.entropy_loss_ratio = {o.EntropyLossRatio} is invalid; a value ≥ 0 is accepted.");
        Require(o.EntropyTemperature > 0, $"{context}.entropy_temperature = {o.EntropyTemperature} is invalid; a positive value is accepted.");
        Require(o.RestartDeadCodesAfter >= 0, $"{context}.restart_dead_codes_after = {o.RestartDeadCodesAfter} is invalid; a count of training forwards ≥ 0 is accepted (0 = off).");
        Require(o.ReconstructionWeight >= 0, $"{context}.reconstruction_weight = {o.ReconstructionWeight} is invalid; a value ≥ 0 is accepted.");
        Require(o.DropoutP >= 0 && o.DropoutP < 1, $"{context}.dropout_p = {o.DropoutP} is invalid; a probability in [0, 1) is accepted.");
        Require(o.ZChannels > 0, $"{context}.z_channels = {o.ZChannels} is invalid; a positive count is accepted.");
        Require(o.NumResBlocks > 0, $"{context}.num_res_blocks = {o.NumResBlocks} is invalid; a positive count is accepted.");
        Require(o.NormGroups > 0, $"{context}.norm_groups = {o.NormGroups} is invalid; a positive count is accepted.");
        Require(o.EncoderChMult.Count > 0 && o.EncoderChMult.All(m => m > 0),
            $"{context}.encoder_ch_mult = [{string.Join(", ", o.EncoderChMult)}] is invalid; a non-empty list of positive multipliers is accepted.");
        Require(o.DecoderChMult.Count == o.EncoderChMult.Count && o.DecoderChMult.All(m => m > 0),
            $"{context}.decoder_ch_mult = [{string.Join(", ", o.DecoderChMult)}] is invalid; it needs as many positive multipliers as encoder_ch_mult ({o.EncoderChMult.Count}) so that images come back at their size.");
        foreach (int m in o.EncoderChMult.Concat(o.DecoderChMult).Append(1))
            Require(o.Ch > 0 && o.Ch * m % o.NormGroups == 0,
                $"{context}.ch = {o.Ch} is invalid with multiplier {m}; every level's channel count ch·m must be a positive multiple of norm_groups = {o.NormGroups}.");
        Require(Image.Channels > 0, $"Images with {Image.Channels} channels cannot be tokenized; at least one channel is needed.");
        int f = DownsampleFactor;
        Require(Image.Height % f == 0 && Image.Width % f == 0 && Image.Height >= f && Image.Width >= f,
            $"Images of {Image.Height}x{Image.Width} pixels do not fit {context}.encoder_ch_mult with {o.EncoderChMult.Count} levels: height and width must be multiples of the downsample factor {f}.");
    }

    static void Require(bool ok, string message)
    {
        if (!ok) throw new ConfigurationException(message);
    }
}

/// <summary>The official <c>Normalize</c>: GroupNorm with <c>norm_groups</c> groups, eps 1e-6, affine.</summary>
public static class Normalize
{
    public static GroupNorm Group(int channels, VqOptions options, Device? device) =>
        AffineGroupNorm.Create(options.NormGroups, channels, VqConfig.NormEps, device);
}
