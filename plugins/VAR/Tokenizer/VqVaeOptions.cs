using IAR.Abstractions;
using TorchSharp.Modules;
using TorchSharp;

namespace IAR.Plugins.VAR;

/// <summary>
/// Every size of VAR's multi-scale VQVAE, named after the official constructor arguments (snake_case in YAML).
/// The official <c>VQVAE</c> hard-codes <c>ch_mult=(1,1,2,2,4)</c> and <c>num_res_blocks=2</c>; here they are options
/// so that small presets (and the parity fixtures) can shrink them. Image channels and size come from the data.
/// </summary>
public sealed record VqVaeOptions
{
    /// <summary>V, codebook size.</summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary>Cvae, the dimension of a code and of the latent feature map.</summary>
    public int ZChannels { get; init; } = 32;

    /// <summary>Base channel width of encoder and decoder; a multiple of 32 (GroupNorm with 32 groups).</summary>
    public int Ch { get; init; } = 160;

    /// <summary>Channel multiplier per resolution level; the image is downsampled 2^(levels − 1) times.</summary>
    public IReadOnlyList<int> ChMult { get; init; } = [1, 1, 2, 2, 4];

    /// <summary>Residual blocks per encoder level (the decoder has one more).</summary>
    public int NumResBlocks { get; init; } = 2;

    /// <summary>Side of each token scale, coarse to fine; the last equals the latent side (image side / downsampling).</summary>
    public IReadOnlyList<int> VPatchNums { get; init; } = [1, 2, 3, 4, 5, 6, 8, 10, 13, 16];

    public double Dropout { get; init; }

    /// <summary>Weight of the commitment loss.</summary>
    public double Beta { get; init; } = 0.25;

    /// <summary>Nearest code by cosine similarity instead of squared L2.</summary>
    public bool UsingZnorm { get; init; }

    /// <summary>Kernel size of quant_conv and post_quant_conv.</summary>
    public int QuantConvKs { get; init; } = 3;

    /// <summary>r in φ(h) = (1 − r)·h + r·conv(h); 0 makes φ the identity.</summary>
    public double QuantResi { get; init; } = 0.5;

    /// <summary>0: one φ per scale; 1: one shared φ; K ≥ 2: K partially shared φ.</summary>
    public int ShareQuantResi { get; init; } = 4;

    /// <summary>Number of φ when share_quant_resi = 0; 0 means one per scale.</summary>
    public int DefaultQresiCounts { get; init; }

    /// <summary>Self-attention in the deepest encoder/decoder level.</summary>
    public bool UsingSa { get; init; } = true;

    /// <summary>Self-attention in the bottleneck.</summary>
    public bool UsingMidSa { get; init; } = true;

    /// <summary>Codebook initialisation, the official <c>eini</c>: &gt; 0 trunc-normal std, &lt; 0 uniform ±|eini|/V, 0 N(0, 1).</summary>
    public double CodebookInit { get; init; }

    /// <summary>Weight of the pixel L2 reconstruction loss when the tokenizer is trained.</summary>
    public double ReconstructionWeight { get; init; } = 1.0;

    /// <summary>2^(levels − 1).</summary>
    public int Downsampling => 1 << (ChMult.Count - 1);

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first option that cannot work for <paramref name="image"/>.</summary>
    public void Validate(ImageShape image, string context)
    {
        if (VocabSize < 2) Fail($"{context}.vocab_size = {VocabSize} is invalid; at least 2 codes are accepted.");
        if (ZChannels < 1) Fail($"{context}.z_channels = {ZChannels} is invalid; at least 1 is accepted.");
        if (Ch < VaeNormalization.Groups || Ch % VaeNormalization.Groups != 0)
            Fail($"{context}.ch = {Ch} is invalid; a positive multiple of {VaeNormalization.Groups} is accepted (GroupNorm has {VaeNormalization.Groups} groups).");
        if (ChMult.Count == 0 || ChMult.Any(m => m < 1))
            Fail($"{context}.ch_mult = [{string.Join(", ", ChMult)}] is invalid; a non-empty list of positive multipliers is accepted.");
        if (NumResBlocks < 1) Fail($"{context}.num_res_blocks = {NumResBlocks} is invalid; at least 1 is accepted.");
        if (VPatchNums.Count < 2 || VPatchNums[0] < 1 || VPatchNums.Zip(VPatchNums.Skip(1)).Any(p => p.Second <= p.First))
            Fail($"{context}.v_patch_nums = [{string.Join(", ", VPatchNums)}] is invalid; at least two strictly increasing positive sides are accepted.");
        if (Dropout is < 0 or >= 1) Fail($"{context}.dropout = {Dropout} is invalid; a value in [0, 1) is accepted.");
        if (Beta < 0) Fail($"{context}.beta = {Beta} is invalid; a value ≥ 0 is accepted.");
        if (QuantConvKs < 1 || QuantConvKs % 2 == 0) Fail($"{context}.quant_conv_ks = {QuantConvKs} is invalid; an odd size ≥ 1 is accepted.");
        if (ShareQuantResi < 0) Fail($"{context}.share_quant_resi = {ShareQuantResi} is invalid; 0 (one per scale), 1 (shared) or K ≥ 2 is accepted.");
        if (DefaultQresiCounts < 0) Fail($"{context}.default_qresi_counts = {DefaultQresiCounts} is invalid; 0 (one per scale) or a positive count is accepted.");
        if (ReconstructionWeight < 0) Fail($"{context}.reconstruction_weight = {ReconstructionWeight} is invalid; a value ≥ 0 is accepted.");
        if (image.Height != image.Width)
            Fail($"The VAR VQVAE needs square images, but the data is {image.Height}x{image.Width}; set data.image_size.");
        if (image.Channels < 1) Fail($"The data has {image.Channels} channels; at least 1 is accepted.");
        int latent = image.Height / Downsampling;
        if (image.Height % Downsampling != 0 || VPatchNums[^1] != latent)
            Fail($"{context}.v_patch_nums ends in {VPatchNums[^1]}, but {image.Height}px images with ch_mult of {ChMult.Count} levels " +
                 $"(downsampling {Downsampling}) give a {(double)image.Height / Downsampling:0.##}-wide latent; the last patch number must equal " +
                 $"image_size / {Downsampling} (change v_patch_nums, ch_mult or data.image_size).");
    }

    static void Fail(string message) => throw new ConfigurationException(message);
}

/// <summary>The VQVAE's only normalisation: GroupNorm with 32 groups and eps 1e-6 (official <c>Normalize</c>).</summary>
internal static class VaeNormalization
{
    public const int Groups = 32;

    public static GroupNorm GroupNorm(int channels) => AffineGroupNorm.Create(Groups, channels, 1e-6);
}
