using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// VAR's multi-scale VQVAE as an <see cref="ITokenizer"/>. Tokens are the per-scale index maps concatenated coarse to
/// fine, [B, L] with L = Σ pn² (layout <see cref="TokenLayout.MultiScale"/>). Indices are in this tokenizer's own
/// numbering; an IAR decorator renumbers them at this boundary.
/// <para>
/// The VAR generator finds this type with <c>Unwrap&lt;VqVaeTokenizer&gt;()</c> and uses only the index-free
/// operations below (<see cref="TeacherForcingInput"/>, <see cref="AddScale"/>, <see cref="NextScaleInput"/>,
/// <see cref="FHatToImage"/>), feeding them code vectors from the (possibly decorated) tokenizer's
/// <c>LookupCodes</c>.
/// </para>
/// </summary>
public sealed class VqVaeTokenizer : ITokenizer
{
    readonly VqVae vae;
    readonly MultiScaleQuantizer quantizer;

    public VqVaeTokenizer(VqVaeOptions options, string preset, ImageShape image)
    {
        options.Validate(image, "tokenizer.options");
        vae = new VqVae(options, image.Channels);
        quantizer = vae.Quantizer;
        Info = new TokenizerInfo("VAR", preset, options.VocabSize, options.ZChannels, TokenLayout.MultiScale(options.VPatchNums), image);
        TrainingLossTerms = VqVaeLossTerm.For(options);
    }

    public TokenizerInfo Info { get; }

    public nn.Module Module => vae;

    public VqVae Vae => vae;

    public Tensor Codebook
    {
        get
        {
            using var _ = torch.no_grad();
            return quantizer.Codebook.detach().clone();
        }
    }

    public IReadOnlyList<VocabularyParameter> VocabularyParameters =>
    [
        new("quantize.embedding.weight", quantizer.Codebook, 0),
        new("quantize.ema_vocab_hit_SV", quantizer.UsageBuffer, 1),
    ];

    public IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms { get; }

    /// <summary>Side of each scale, coarse to fine (the official patch_nums).</summary>
    public IReadOnlyList<int> PatchNums => quantizer.PatchNums;

    public Tensor Encode(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        return torch.cat(EncodeScales(images).ToArray(), 1).MoveToOuterDisposeScope();
    }

    /// <summary>The official <c>img_to_idxBl</c>: per scale, int64 [B, pn²].</summary>
    public IReadOnlyList<Tensor> EncodeScales(Tensor images)
    {
        Info.CheckImages(images);
        using var _ = torch.no_grad();
        using var f = vae.Features(images);
        return quantizer.Quantize(f, toFHat: false);
    }

    /// <summary>The official <c>f_to_idxBl_or_fhat(f, to_fhat=True)</c>: the cumulative f̂ after each scale, [B, Cvae, h, w].</summary>
    public IReadOnlyList<Tensor> ScaleFHats(Tensor features)
    {
        using var _ = torch.no_grad();
        return quantizer.Quantize(features, toFHat: true);
    }

    public Tensor Decode(Tensor tokens)
    {
        Info.CheckTokens(tokens);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return FHatToImage(quantizer.FHatFromCodes(LookupCodes(tokens))).MoveToOuterDisposeScope();
    }

    public Tensor LookupCodes(Tensor tokens) => quantizer.Lookup(tokens);

    public TokenizerOutput Reconstruct(Tensor images)
    {
        Info.CheckImages(images);
        using var scope = torch.NewDisposeScope();
        var (fHat, indices, codebook, commitment) = quantizer.TrainingForward(vae.Features(images));
        var reconstruction = vae.DecodeFeatures(fHat);
        return new TokenizerOutput(reconstruction.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope(),
            new Dictionary<string, Tensor>
            {
                [VqVaeLossTerm.Codebook] = codebook.MoveToOuterDisposeScope(),
                [VqVaeLossTerm.Commitment] = commitment.MoveToOuterDisposeScope(),
            });
    }

    /// <summary>
    /// VAR's teacher-forcing input from code vectors: codes [B, L, Cvae] (layout order) → [B, L − pn₀², Cvae].
    /// Index-free: pass <c>LookupCodes(tokens)</c> of the tokenizer the generator was given.
    /// </summary>
    public Tensor TeacherForcingInput(Tensor codes) => quantizer.TeacherForcingInput(codes);

    /// <summary>f̂ + φ(up(h)) for scale <paramref name="scale"/>: h [B, Cvae, pn, pn] → [B, Cvae, h, w].</summary>
    public Tensor AddScale(Tensor fHat, int scale, Tensor codeMap) => quantizer.AddScale(fHat, scale, codeMap);

    /// <summary>f̂ area-downsampled to the next scale: [B, Cvae, h, w] → [B, pn_{scale+1}², Cvae].</summary>
    public Tensor NextScaleInput(Tensor fHat, int scale) => quantizer.NextScaleInput(fHat, scale);

    /// <summary>Decoded image in [−1, 1] from f̂ [B, Cvae, h, w].</summary>
    public Tensor FHatToImage(Tensor fHat) => vae.FHatToImage(fHat);
}
