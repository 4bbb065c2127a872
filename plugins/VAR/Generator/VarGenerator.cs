using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// VAR as an <see cref="IGenerator"/> (next-scale). Its vocabulary is the tokenizer's, its output head
/// (<c>head.weight</c>, <c>head.bias</c>, axis 0) the only vocabulary-indexed tensor: the input is continuous.
/// <para>
/// Index boundary: every index this generator sees or produces is in the numbering of the tokenizer it was given,
/// which may be an IAR decorator. It turns indices into code vectors only through that tokenizer's
/// <c>LookupCodes</c>, and uses the concrete <see cref="VqVaeTokenizer"/> (found with <c>Unwrap</c>) only for
/// index-free work: φ, area/bicubic resampling of f̂. So a renumbered codebook needs no change here.
/// </para>
/// <para>
/// Guidance: <see cref="SamplingOptions.CfgScale"/> s follows the host's convention (1 = off) and mixes
/// logits as (1 + t)·cond − t·uncond with t = (s − 1)·si/(SN − 1) under the official linear schedule (the default) or
/// t = s − 1 under a constant one. The official <c>cfg = c</c> is therefore <c>cfg_scale = 1 + c</c>.
/// </para>
/// </summary>
public sealed class VarGenerator : IGenerator
{
    readonly VarTransformer model;
    readonly ITokenizer tokenizer;
    readonly VqVaeTokenizer vae;

    public VarGenerator(VarOptions options, string preset, GeneratorRequest request)
    {
        options.Validate("generator.options");
        tokenizer = request.Tokenizer;
        try
        {
            vae = tokenizer.Unwrap<VqVaeTokenizer>();
        }
        catch (InvalidOperationException)
        {
            throw new ConfigurationException(
                $"The VAR generator needs the VAR plugin's VQVAE tokenizer (multi-scale residual), but tokenizer is " +
                $"{tokenizer.Info.Plugin}/{tokenizer.Info.Preset}; set tokenizer.plugin: VAR.");
        }
        if (request.NumClasses < 1)
            throw new ConfigurationException($"The VAR generator needs at least one class; the data has {request.NumClasses}.");
        var t = tokenizer.Info;
        model = new VarTransformer(options, t.CodeDim, t.VocabularySize, request.NumClasses, vae.PatchNums);
        Info = new GeneratorInfo("VAR", preset, GeneratorKind.NextScale, t.VocabularySize, request.NumClasses, t.Layout, SupportsGuidance: true,
            SupportsClusterSampling: true);
    }

    public GeneratorInfo Info { get; }

    public nn.Module Module => model;

    public IReadOnlyList<VocabularyParameter> VocabularyParameters =>
        [new("head.weight", model.Head.weight!, 0), new("head.bias", model.Head.bias!, 0)];

    public GeneratorOutput Forward(TokenBatch batch)
    {
        var tokens = batch.Tokens;
        CheckTokens(tokens);
        using var scope = torch.NewDisposeScope();
        var labels = batch.DropLabels is null ? batch.Labels : torch.where(batch.DropLabels, Info.NumClasses, batch.Labels);
        Tensor input;
        using (torch.no_grad())
        {
            // The official trainer builds this input without gradients from the frozen VQVAE.
            input = vae.TeacherForcingInput(tokenizer.LookupCodes(tokens));                 // [B, L − first_l, Cvae]
        }
        var logits = model.forward(labels, input);                                         // [B, L, V]
        return new GeneratorOutput(logits.MoveToOuterDisposeScope(), tokens);
    }

    public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator) =>
        Generate(labels, options, generator, observeLogits: null);

    /// <summary>Scale-by-scale sampling; <paramref name="observeLogits"/> sees each scale's guided logits [B, pn², V].</summary>
    internal Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator, Action<int, Tensor>? observeLogits)
    {
        options.Validate();
        CheckLabels(labels);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long b = labels.shape[0];
        var patchNums = model.PatchNums;
        int scales = patchNums.Count, codeDim = tokenizer.Info.CodeDim;
        bool guided = options.CfgScale != 1;
        var schedule = options.Schedule ?? GuidanceSchedule.Linear;

        // Guided sampling runs conditional and unconditional halves in one batch: [labels; null class].
        var classes = guided ? torch.cat([labels, torch.full_like(labels, Info.NumClasses)]) : labels;
        var condition = model.ClassCondition(classes);                                     // [B', C]
        var levelPositions = model.LevelPositions();                                       // [1, L, C]
        var x = model.FirstScaleTokens(condition, levelPositions);                         // [B', first_l, C]
        var fHat = torch.zeros(b, codeDim, patchNums[^1], patchNums[^1], device: labels.device);
        var caches = options.UseKvCache ? Enumerable.Range(0, model.BlockCount).Select(_ => new AttentionCache()).ToArray() : null;
        var prefix = new List<Tensor>();
        var sampled = new List<Tensor>();
        try
        {
            for (int si = 0; si < scales; si++)
            {
                Tensor hidden;
                if (caches is not null)
                {
                    hidden = model.RunBlocks(x, condition, null, caches);
                }
                else
                {
                    // Without a cache the whole prefix is recomputed under the block-causal mask.
                    prefix.Add(x);
                    int end = model.Offsets[si + 1];
                    hidden = model.RunBlocks(torch.cat(prefix, 1), condition, model.Mask(end), null)[.., model.Offsets[si]..end];
                }
                var logits = Autocast.Float(model.Logits(hidden, condition));              // [B', pn², V], guidance and softmax in fp32
                if (guided)
                {
                    double t = (options.CfgScale - 1) * (schedule == GuidanceSchedule.Linear ? (double)si / (scales - 1) : 1);
                    logits = (1 + t) * logits[..(int)b] - t * logits[(int)b..];
                }
                observeLogits?.Invoke(si, logits);
                var indices = ScaleSampler.Sample(logits, options, generator);              // [B, pn²]
                sampled.Add(indices);

                int pn = patchNums[si];
                var codeMap = tokenizer.LookupCodes(indices).transpose(1, 2).reshape(b, codeDim, pn, pn);
                fHat = vae.AddScale(fHat, si, codeMap);                                     // [B, Cvae, H, W]
                if (si < scales - 1)
                {
                    x = model.ScaleTokens(vae.NextScaleInput(fHat, si), si + 1, levelPositions);
                    if (guided) x = x.repeat(2, 1, 1);
                }
            }
        }
        finally
        {
            if (caches is not null) foreach (var cache in caches) cache.Dispose();
        }
        return torch.cat(sampled, 1).MoveToOuterDisposeScope();
    }

    void CheckLabels(Tensor labels)
    {
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Class labels must be int64 [B], but were {labels.dtype} [{string.Join(", ", labels.shape)}].");
        if (labels.NumberOfElements == 0) throw new ArgumentException("At least one class label is needed to generate.");
        long min = labels.min().item<long>(), max = labels.max().item<long>();
        if (min < 0 || max >= Info.NumClasses)
            throw new ArgumentException($"Class labels must be in [0, {Info.NumClasses}), but range over [{min}, {max}].");
    }

    void CheckTokens(Tensor tokens)
    {
        int length = Info.Layout.SequenceLength;
        if (tokens.dim() != 2 || tokens.shape[1] != length)
            throw new ArgumentException(
                $"VAR {Info.Preset} takes tokens [B, {length}] (scales {Info.Layout}), but was given [{string.Join(", ", tokens.shape)}].");
    }
}
