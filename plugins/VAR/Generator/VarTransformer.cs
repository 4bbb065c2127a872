using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The VAR next-scale transformer (official <c>var.VAR</c> without the VAE, which the official class keeps outside
/// its state dict too). Input of a whole pyramid: the class token (class_emb + pos_start) for scale 0, then
/// word_embed of the teacher-forcing input for the other scales, plus level embedding and learned positions;
/// blocks attend block-causally (full attention within a scale and to every earlier scale); an AdaLN head gives
/// logits over the codebook.
/// </summary>
internal sealed class VarTransformer : nn.Module
{
    readonly Linear word_embed;
    readonly Embedding class_emb;                  // [num_classes + 1, C]; row num_classes is the null class
    readonly Parameter pos_start;                  // [1, first_l, C]
    readonly Parameter pos_1LC;                    // [1, L, C]
    readonly Embedding lvl_embed;                  // [SN, C]
    readonly nn.Module<Tensor, Tensor> shared_ada_lin;
    readonly ModuleList<AdaLNSelfAttn> blocks;
    readonly Tensor lvl_1L;                        // int64 [1, L], the scale of every position (a buffer)
    readonly Tensor attn_bias_for_masking;         // [1, 1, L, L], 0 where level(query) ≥ level(key), else −∞
    readonly AdaLNBeforeHead head_nm;
    readonly Linear head;

    readonly int[] patchNums;
    readonly int[] offsets;
    readonly int embedDim;

    public VarTransformer(VarOptions o, int codeDim, int vocabularySize, int numClasses, IReadOnlyList<int> patchNums) : base("VAR")
    {
        this.patchNums = patchNums.ToArray();
        offsets = new int[patchNums.Count + 1];
        for (int i = 0; i < patchNums.Count; i++) offsets[i + 1] = offsets[i] + patchNums[i] * patchNums[i];
        embedDim = o.EmbedDim;
        NumClasses = numClasses;
        int c = o.EmbedDim, length = offsets[^1], firstL = FirstLength;
        double positionStd = Math.Sqrt(1.0 / c / 3);

        word_embed = nn.Linear(codeDim, c);
        class_emb = nn.Embedding(numClasses + 1, c);
        pos_start = nn.Parameter(torch.empty(1, firstL, c));
        pos_1LC = nn.Parameter(torch.empty(1, length, c));
        lvl_embed = nn.Embedding(patchNums.Count, c);
        using (torch.no_grad())
        {
            TruncatedNormal.Fill(class_emb.weight!, positionStd);
            TruncatedNormal.Fill(pos_start, positionStd);
            TruncatedNormal.Fill(pos_1LC, positionStd);
            TruncatedNormal.Fill(lvl_embed.weight!, positionStd);
        }
        shared_ada_lin = o.SharedAln ? nn.Sequential(("0", nn.SiLU()), ("1", nn.Linear(c, 6 * c))) : nn.Identity();
        var dropPaths = Enumerable.Range(0, o.Depth).Select(i => o.Depth == 1 ? 0 : o.DropPathRate * i / (o.Depth - 1));
        blocks = nn.ModuleList(dropPaths.Select(p => new AdaLNSelfAttn(o, p)).ToArray());

        var levels = torch.cat(patchNums.Select((pn, i) => torch.full(pn * pn, i, dtype: ScalarType.Int64)).ToArray());
        lvl_1L = levels.view(1, length).clone();
        var queryLevel = levels.view(1, length, 1);
        var keyLevel = levels.view(1, 1, length);
        attn_bias_for_masking = torch.zeros(1, 1, length, length).masked_fill((queryLevel < keyLevel).unsqueeze(0), float.NegativeInfinity);
        register_buffer(nameof(lvl_1L), lvl_1L);
        register_buffer(nameof(attn_bias_for_masking), attn_bias_for_masking);

        head_nm = new AdaLNBeforeHead(c, c, o.NormEps);
        head = nn.Linear(c, vocabularySize);
        RegisterComponents();
        InitWeights(o);
    }

    public int NumClasses { get; }

    public int ScaleCount => patchNums.Length;

    public IReadOnlyList<int> PatchNums => patchNums;

    /// <summary>Start of each scale in the flat sequence, plus L.</summary>
    public IReadOnlyList<int> Offsets => offsets;

    /// <summary>Tokens of the first scale (pn₀²), predicted from the class token alone.</summary>
    public int FirstLength => patchNums[0] * patchNums[0];

    public Linear Head => head;

    /// <summary>
    /// Teacher-forced logits (official <c>forward</c>): labels int64 [B] (null class already substituted),
    /// input [B, L − first_l, Cvae] → logits [B, L, V].
    /// </summary>
    public Tensor forward(Tensor labels, Tensor teacherForcingInput)
    {
        using var scope = torch.NewDisposeScope();
        long b = labels.shape[0];
        var condition = class_emb.forward(labels);                                              // [B, C]
        var start = condition.unsqueeze(1).expand(b, FirstLength, -1) + pos_start.expand(b, FirstLength, -1);
        var x = torch.cat([start, Autocast.Float(Autocast.Linear(word_embed, teacherForcingInput))], 1);   // [B, L, C]
        x = x + (lvl_embed.forward(lvl_1L.expand(b, -1)) + pos_1LC);
        var h = RunBlocks(x, condition, attn_bias_for_masking, caches: null);
        return Logits(h, condition).MoveToOuterDisposeScope();
    }

    /// <summary>Class embedding [B, C] of labels int64 [B] (num_classes = the null class).</summary>
    public Tensor ClassCondition(Tensor labels) => class_emb.forward(labels);

    /// <summary>lvl_embed(lvl_1L) + pos_1LC, [1, L, C].</summary>
    public Tensor LevelPositions()
    {
        using var levels = lvl_embed.forward(lvl_1L);
        return levels + pos_1LC;
    }

    /// <summary>Input tokens of scale 0: class token + pos_start + level/position, [B, first_l, C].</summary>
    public Tensor FirstScaleTokens(Tensor condition, Tensor levelPositions)
    {
        using var scope = torch.NewDisposeScope();
        long b = condition.shape[0];
        var tokens = condition.unsqueeze(1).expand(b, FirstLength, -1) + pos_start.expand(b, FirstLength, -1)
                     + levelPositions[.., ..FirstLength];
        return tokens.MoveToOuterDisposeScope();
    }

    /// <summary>Input tokens of scale si ≥ 1: word_embed(area-downsampled f̂ [B, pn², Cvae]) + level/position.</summary>
    public Tensor ScaleTokens(Tensor scaleInput, int scale, Tensor levelPositions)
    {
        using var embedded = Autocast.Linear(word_embed, scaleInput);
        using var positions = levelPositions[.., offsets[scale]..offsets[scale + 1]];
        return embedded + positions;
    }

    /// <summary>The block-causal additive mask over the first <paramref name="length"/> positions, [1, 1, length, length].</summary>
    public Tensor Mask(int length) => attn_bias_for_masking[.., .., ..length, ..length];

    /// <summary>Every block: x [B, l, C] → [B, l, C]; with caches (one per block) the queries see all earlier scales.</summary>
    public Tensor RunBlocks(Tensor x, Tensor condition, Tensor? attnBias, IReadOnlyList<AttentionCache>? caches)
    {
        using var scope = torch.NewDisposeScope();
        var projected = shared_ada_lin is Identity ? condition : shared_ada_lin.forward(condition).view(-1, 1, 6, embedDim);
        for (int i = 0; i < blocks.Count; i++) x = blocks[i].forward(x, projected, attnBias, caches?[i]);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>head(head_nm(h, cond)): [B, l, C] → [B, l, V].</summary>
    public Tensor Logits(Tensor h, Tensor condition)
    {
        using var normed = head_nm.forward(h, condition);
        return Autocast.Linear(head, normed);
    }

    public int BlockCount => blocks.Count;

    /// <summary>The official <c>init_weights</c>.</summary>
    void InitWeights(VarOptions o)
    {
        double std = o.InitStd < 0 ? Math.Sqrt(1.0 / embedDim / 3) : o.InitStd;
        using var _ = torch.no_grad();
        foreach (var (_, module) in named_modules())
        {
            if (module is Linear linear)
            {
                TruncatedNormal.Fill(linear.weight!, std);
                linear.bias?.zero_();
            }
            else if (module is Embedding embedding)
            {
                TruncatedNormal.Fill(embedding.weight!, std);
            }
        }
        if (o.InitHead >= 0)
        {
            head.weight!.mul_(o.InitHead);
            head.bias!.zero_();
        }
        head_nm.AdaLinear.weight!.mul_(o.InitAdaln);
        head_nm.AdaLinear.bias!.zero_();
        double residualScale = Math.Sqrt(2.0 * blocks.Count);
        int c = embedDim;
        foreach (var block in blocks)
        {
            block.Attention.Proj.weight!.div_(residualScale);
            block.Ffn.Fc2.weight!.div_(residualScale);
            if (block.AdaLinear is { } ada)
            {
                ada.weight![(2 * c)..].mul_(o.InitAdaln);
                ada.weight![..(2 * c)].mul_(o.InitAdalnGamma);
                ada.bias!.zero_();
            }
            else if (block.AdaGss is { } gss)
            {
                gss[.., .., 2..].mul_(o.InitAdaln);
                gss[.., .., ..2].mul_(o.InitAdalnGamma);
            }
        }
    }
}
