using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// <c>var-forward</c>: teacher-forced logits and loss of the official VAR (its input built here from the ground-truth
/// indices, through the tokenizer's LookupCodes), then greedy (top-k 1) guided generation: per-scale indices,
/// per-scale guided logits and the decoded image.
/// </summary>
public sealed class VarForwardParityHandler : IParityHandler
{
    /// <summary>The official call used <c>cfg=1.5</c>; in the host's convention (1 = off) that is 2.5.</summary>
    const double OfficialCfg = 1.5;

    public string Kind => "var-forward";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase parityCase)
    {
        var vaeConfig = parityCase.Config.GetProperty("vae");
        int side = vaeConfig.GetProperty("v_patch_nums").EnumerateArray().Last().GetInt32()
                   << (vaeConfig.GetProperty("ch_mult").GetArrayLength() - 1);
        var tokenizer = VarParityConfig.Tokenizer(vaeConfig, side, parityCase.File_("vae.safetensors"));
        var generator = VarParityConfig.Generator(parityCase.Config, tokenizer, parityCase.File_("weights.safetensors"));
        tokenizer.Module.to(ParityCase.Device).eval();
        generator.Module.to(ParityCase.Device);

        var result = new Dictionary<string, Tensor>();
        generator.Module.train();
        var targets = parityCase.Input("gt_BL");
        var logits = generator.Forward(new TokenBatch(targets, parityCase.Input("label_B"))).Logits;
        result["logits"] = logits;
        // The fixture stores this scalar with shape [1] (its README says []).
        result["loss"] = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), targets.reshape(-1)).reshape(1);

        generator.Module.eval();
        var tokens = ((IAR.Plugins.VAR.VarGenerator)generator).Generate(parityCase.Input("infer_label_B"),
            new SamplingOptions(CfgScale: 1 + OfficialCfg, TopK: 1, Schedule: GuidanceSchedule.Linear), null,
            (si, scaleLogits) => result[$"debug_infer_logits_s{si}"] = scaleLogits.clone().MoveToOuterDisposeScope());
        var offsets = tokenizer.Info.Layout.ScaleOffsets;
        for (int si = 0; si + 1 < offsets.Count; si++) result[$"infer_idx_s{si}"] = tokens[.., offsets[si]..offsets[si + 1]];
        result["infer_img"] = tokenizer.Decode(tokens).add(1).mul(0.5);
        return result;
    }
}
