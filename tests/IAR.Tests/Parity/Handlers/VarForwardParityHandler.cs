using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// <c>var-forward</c>: teacher-forced logits and loss of the official VAR (its input built here from the ground-truth
/// indices <c>gt_BL</c>, through the tokenizer's LookupCodes), then greedy (top-k 1) guided generation with the
/// arguments of the recorded <c>calls.infer_img</c>: per-scale indices, per-scale guided logits and the decoded image.
/// </summary>
public sealed class VarForwardParityHandler : IParityHandler
{
    public string Kind => "var-forward";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase parityCase)
    {
        var vaeConfig = parityCase.Config.GetProperty("vae");
        int side = vaeConfig.GetProperty("v_patch_nums").EnumerateArray().Last().GetInt32()
                   << (vaeConfig.GetProperty("ch_mult").GetArrayLength() - 1);
        var tokenizer = VarParityConfig.Tokenizer(vaeConfig, side, parityCase.File_("vae.safetensors"), $"{parityCase.Dir}/config.json: vae");
        var generator = VarParityConfig.Generator(parityCase.Config, tokenizer, parityCase.File_("weights.safetensors"),
            $"{parityCase.Dir}/config.json");
        tokenizer.Module.to(ParityCase.Device).eval();
        generator.Module.to(ParityCase.Device);

        var result = new Dictionary<string, Tensor>();
        generator.Module.train();
        var targets = parityCase.Input("gt_BL");                                                 // [B, L]
        var forward = parityCase.Call("logits", "var");
        forward.RequireAllRead(Kind);
        var logits = Autocast.Float(generator.Forward(new TokenBatch(targets, parityCase.Input(forward.PositionalName(0)))).Logits);
        result["logits"] = logits;                                                               // [B, L, V]
        // The host's token loss term (the official trainer.py formula without label smoothing is the plain mean CE).
        result["loss"] = parityCase.AsStored("loss", GeneratorLoss.For(new ExperimentSpec(), clusters: null, LossTermCatalog.BuiltIn).Compute(logits, targets).Terms[0]);

        generator.Module.eval();
        var (labels, options) = Inference(parityCase, parityCase.Call("infer_img", "autoregressive_infer_cfg"));
        var tokens = generator.Generate(labels, options, null,
            (si, scaleLogits) => result[$"debug_infer_logits_s{si}"] = scaleLogits.clone().MoveToOuterDisposeScope());
        var offsets = tokenizer.Info.Layout.ScaleOffsets;
        for (int si = 0; si + 1 < offsets.Count; si++) result[$"infer_idx_s{si}"] = tokens[.., offsets[si]..offsets[si + 1]];
        result["infer_img"] = tokenizer.Decode(tokens).add(1).mul(0.5);
        return result;
    }

    /// <summary>
    /// <c>autoregressive_infer_cfg(B, label_B, g_seed=None, cfg=1.5, top_k=0, top_p=0.0, more_smooth=False)</c> in our
    /// terms. The official cfg is the guidance added on top of the conditional logits at the last scale, ramped
    /// linearly from 0 at the first scale; in the host's convention (1 = off) that is 1 + cfg with the linear schedule.
    /// With top_k 1 the result does not depend on g_seed or top_p.
    /// </summary>
    (Tensor Labels, SamplingOptions Options) Inference(ParityCase c, OfficialCall call)
    {
        var labels = c.Input(call.TakeName("label_B") ?? call.PositionalName(1));
        int batch = call.TakeInt("B", -1);
        if (batch < 0 && call.Positional.Count > 0) batch = int.Parse(call.Positional[0], System.Globalization.CultureInfo.InvariantCulture);
        if (batch != labels.shape[0])
            throw new InvalidDataException($"{c.Dir}: {call} asks for B={batch} images but label_B holds {labels.shape[0]} labels.");
        call.Take("g_seed");
        double cfg = call.TakeDouble("cfg", 1.5);
        int topK = call.TakeInt("top_k", 0);
        call.TakeDouble("top_p", 0.0);
        if (call.TakeBool("more_smooth", false))
            throw new InvalidDataException($"{c.Dir}: {call} uses more_smooth=True (Gumbel softmax), which VarGenerator does not implement.");
        call.RequireAllRead(Kind);
        if (topK != 1)
            throw new InvalidDataException($"{c.Dir}: {call} samples from PyTorch's RNG (top_k ≠ 1), which no handler can reproduce; record a greedy call (top_k=1).");
        return (labels, new SamplingOptions(CfgScale: 1 + cfg, TopK: 1, Schedule: GuidanceSchedule.Linear));
    }
}
