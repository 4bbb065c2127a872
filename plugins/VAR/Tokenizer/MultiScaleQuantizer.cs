using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// VAR's multi-scale residual quantizer (official <c>quant.VectorQuantizer2</c>, key prefix <c>quantize.</c>).
/// A feature map f [B, C, H, W] is explained coarse to fine: at scale si the residual is area-downsampled to
/// pn×pn, each position takes its nearest code (plain squared L2, optionally cosine), and the code map is
/// bicubic-upsampled to H×W, refined by φ and added to f̂ (the last scale, pn = H, is used as is).
/// <para>
/// Methods that take <b>code vectors</b> (<see cref="AddScale"/>, <see cref="TeacherForcingInput"/>,
/// <see cref="FHatFromCodes"/>) are index-free: a generator feeds them vectors from its tokenizer's
/// <c>LookupCodes</c>, so an IAR renumbering of the indices never reaches this module.
/// </para>
/// </summary>
internal sealed class MultiScaleQuantizer : nn.Module
{
    readonly Embedding embedding;
    readonly PhiBank quant_resi;
    readonly Tensor ema_vocab_hit_SV;   // [SN, V] exponential moving count of code hits per scale (a buffer)
    readonly int[] patchNums;
    readonly int[] offsets;             // start of each scale in the flat sequence, plus L
    readonly bool usingZnorm;
    int recordHit;

    public MultiScaleQuantizer(VqVaeOptions o) : base("VectorQuantizer2")
    {
        patchNums = o.VPatchNums.ToArray();
        offsets = new int[patchNums.Length + 1];
        for (int i = 0; i < patchNums.Length; i++) offsets[i + 1] = offsets[i] + patchNums[i] * patchNums[i];
        usingZnorm = o.UsingZnorm;
        quant_resi = new PhiBank(o.ZChannels, o.QuantResi, o.ShareQuantResi, o.DefaultQresiCounts, patchNums.Length);
        embedding = nn.Embedding(o.VocabSize, o.ZChannels);
        InitialiseCodebook(o.CodebookInit);
        ema_vocab_hit_SV = torch.zeros(patchNums.Length, o.VocabSize);
        register_buffer(nameof(ema_vocab_hit_SV), ema_vocab_hit_SV);
        RegisterComponents();
    }

    /// <summary>The official <c>eini</c>: &gt; 0 trunc-normal with that std, &lt; 0 uniform ±|eini|/V, 0 keeps N(0, 1).</summary>
    void InitialiseCodebook(double eini)
    {
        using var _ = torch.no_grad();
        var w = embedding.weight!;
        if (eini > 0) TruncatedNormal.Fill(w, eini);
        else if (eini < 0) w.uniform_(-Math.Abs(eini) / w.shape[0], Math.Abs(eini) / w.shape[0]);
    }

    public IReadOnlyList<int> PatchNums => patchNums;

    public int ScaleCount => patchNums.Length;

    /// <summary>The finest side, H = W of f and f̂.</summary>
    public int FinalSide => patchNums[^1];

    /// <summary>[V, C] the live codebook parameter (<c>quantize.embedding.weight</c>).</summary>
    public Parameter Codebook => embedding.weight!;

    /// <summary>[SN, V] the live usage buffer (<c>quantize.ema_vocab_hit_SV</c>).</summary>
    public Tensor UsageBuffer => ema_vocab_hit_SV;

    public PhiBank Phis => quant_resi;

    /// <summary>int64 [...] → [..., C]: codebook rows in this quantizer's own numbering.</summary>
    public Tensor Lookup(Tensor indices) => embedding.forward(indices);

    /// <summary>f̂ + φ_si(up(h)): one scale's contribution, h [B, C, pn_si, pn_si] → f̂ [B, C, H, W].</summary>
    public Tensor AddScale(Tensor fHat, int scale, Tensor h)
    {
        using var contribution = Contribution(scale, h);
        return fHat.add(contribution);
    }

    /// <summary>The next scale's input: f̂ [B, C, H, W] area-downsampled to pn_{si+1} → [B, pn², C].</summary>
    public Tensor NextScaleInput(Tensor fHat, int scale)
    {
        int next = patchNums[scale + 1];
        using var small = ScaleResampling.Area(fHat, next);
        return small.view(fHat.shape[0], fHat.shape[1], -1).transpose(1, 2);
    }

    /// <summary>
    /// Teacher-forcing input of VAR (official <c>idxBl_to_var_input</c>) from code vectors:
    /// codes [B, L, C] in layout order → [B, L − pn₀², C], the area-downsampled f̂ after each scale but the last.
    /// </summary>
    public Tensor TeacherForcingInput(Tensor codes)
    {
        using var scope = torch.NewDisposeScope();
        var fHat = torch.zeros(codes.shape[0], codes.shape[2], FinalSide, FinalSide, dtype: codes.dtype, device: codes.device);
        var next = new List<Tensor>();
        for (int si = 0; si < ScaleCount - 1; si++)
        {
            fHat = AddScale(fHat, si, ScaleMap(codes, si));
            next.Add(NextScaleInput(fHat, si));
        }
        return torch.cat(next, 1).MoveToOuterDisposeScope();
    }

    /// <summary>f̂ [B, C, H, W] of a whole token pyramid given as code vectors [B, L, C] (official <c>embed_to_fhat</c>).</summary>
    public Tensor FHatFromCodes(Tensor codes)
    {
        using var scope = torch.NewDisposeScope();
        var fHat = torch.zeros(codes.shape[0], codes.shape[2], FinalSide, FinalSide, dtype: codes.dtype, device: codes.device);
        for (int si = 0; si < ScaleCount; si++) fHat = AddScale(fHat, si, ScaleMap(codes, si));
        return fHat.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Quantizes f [B, C, H, W] scale by scale (official <c>f_to_idxBl_or_fhat</c>): per scale, the indices
    /// [B, pn²] (row-major over h, w) or, with <paramref name="toFHat"/>, the cumulative f̂ [B, C, H, W].
    /// </summary>
    public IReadOnlyList<Tensor> Quantize(Tensor f, bool toFHat)
    {
        CheckFinalSide(f);
        using var scope = torch.NewDisposeScope();
        long b = f.shape[0];
        var rest = f.detach().clone();
        var fHat = torch.zeros_like(rest);
        var result = new List<Tensor>();
        for (int si = 0; si < ScaleCount; si++)
        {
            int pn = patchNums[si];
            var indices = NearestCodes(FlatResidual(rest, si));                       // [B·pn·pn]
            var h = embedding.forward(indices.view(b, pn, pn)).permute(0, 3, 1, 2);   // [B, C, pn, pn]
            var contribution = Contribution(si, h);
            fHat = fHat + contribution;
            rest = rest - contribution;
            result.Add(toFHat ? fHat.clone() : indices.reshape(b, pn * pn));
        }
        foreach (var t in result) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>
    /// The training forward (official <c>forward</c>): f̂ with a straight-through gradient to f, the chosen indices
    /// [B, L], and the scale-averaged codebook loss mean‖f̂ − sg(f)‖² and commitment loss mean‖sg(f̂) − f‖².
    /// Updates the usage buffer in training mode.
    /// </summary>
    public (Tensor FHat, Tensor Indices, Tensor CodebookLoss, Tensor CommitmentLoss) TrainingForward(Tensor f)
    {
        CheckFinalSide(f);
        using var scope = torch.NewDisposeScope();
        long b = f.shape[0];
        var target = f.detach();
        var rest = target.clone();
        var fHat = torch.zeros_like(rest);
        var codebookLoss = torch.zeros([], device: f.device);
        var commitmentLoss = torch.zeros([], device: f.device);
        var indices = new List<Tensor>();
        for (int si = 0; si < ScaleCount; si++)
        {
            int pn = patchNums[si];
            var chosen = NearestCodes(FlatResidual(rest, si));
            if (training) RecordHits(si, chosen);
            var contribution = Contribution(si, embedding.forward(chosen.view(b, pn, pn)).permute(0, 3, 1, 2));
            fHat = fHat + contribution;
            rest = rest - contribution.detach();
            codebookLoss = codebookLoss + nn.functional.mse_loss(fHat, target);
            commitmentLoss = commitmentLoss + nn.functional.mse_loss(fHat.detach(), f);
            indices.Add(chosen.reshape(b, pn * pn));
        }
        var straightThrough = fHat.detach() - target + f;
        return (straightThrough.MoveToOuterDisposeScope(), torch.cat(indices, 1).MoveToOuterDisposeScope(),
            (codebookLoss / ScaleCount).MoveToOuterDisposeScope(), (commitmentLoss / ScaleCount).MoveToOuterDisposeScope());
    }

    /// <summary>Nearest code of every row of z [N, C] → int64 [N] (squared L2, or cosine when using_znorm).</summary>
    public Tensor NearestCodes(Tensor z)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var codes = embedding.weight!.detach();
        if (usingZnorm)
        {
            var similarity = nn.functional.normalize(z, dim: -1).matmul(nn.functional.normalize(codes.t(), dim: 0));
            return similarity.argmax(1).MoveToOuterDisposeScope();
        }
        // |z|² + |e|² − 2 z·e, summed in the official order so that near-ties break the same way.
        var distance = z.square().sum(1, keepdim: true) + codes.square().sum(1);   // [N, V]
        return torch.addmm(distance, z, codes.t(), beta: 1, alpha: -2).argmin(1).MoveToOuterDisposeScope();
    }

    /// <summary>φ_si(bicubic(h → H×W)) for every scale but the last; φ_last(h) for the last (already H×W).</summary>
    Tensor Contribution(int scale, Tensor h)
    {
        var phi = quant_resi.ForScale(scale, ScaleCount);
        if (scale == ScaleCount - 1) return phi.forward(h);
        using var up = ScaleResampling.Bicubic(h, FinalSide);
        return phi.forward(up);
    }

    /// <summary>Scale si of a flat code sequence [B, L, C] as a map [B, C, pn, pn].</summary>
    Tensor ScaleMap(Tensor codes, int scale)
    {
        int pn = patchNums[scale];
        return codes[.., offsets[scale]..offsets[scale + 1], ..].transpose(1, 2).reshape(codes.shape[0], codes.shape[2], pn, pn);
    }

    /// <summary>The residual seen at scale si, flattened to [B·pn·pn, C].</summary>
    Tensor FlatResidual(Tensor rest, int scale)
    {
        var map = scale == ScaleCount - 1 ? rest : ScaleResampling.Area(rest, patchNums[scale]);
        return map.permute(0, 2, 3, 1).reshape(-1, rest.shape[1]);
    }

    /// <summary>The official usage EMA; its counter advances once per scale, so scale 0 of the first batch is copied
    /// and every later update is a 0.9 (then, after 100, 0.99) moving average.</summary>
    void RecordHits(int scale, Tensor chosen)
    {
        using var _ = torch.no_grad();
        using var hits = chosen.bincount(null, minlength: ema_vocab_hit_SV.shape[1]).to(ema_vocab_hit_SV.dtype);
        using var row = ema_vocab_hit_SV[scale];
        if (recordHit == 0) row.copy_(hits);
        else if (recordHit < 100) row.mul_(0.9).add_(hits.mul(0.1));
        else row.mul_(0.99).add_(hits.mul(0.01));
        recordHit++;
    }

    void CheckFinalSide(Tensor f)
    {
        if (f.shape[2] != FinalSide || f.shape[3] != FinalSide)
            throw new ArgumentException($"The VQVAE features are {f.shape[2]}x{f.shape[3]}, but the last patch number is {FinalSide}.");
    }
}
