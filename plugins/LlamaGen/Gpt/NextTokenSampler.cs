using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// LlamaGen's <c>generate()</c>: the class token is prefilled at position 0, then one token per step. With guidance
/// the batch is [labels; null class] and the logits are uncond + (cond − uncond)·scale. With the KV cache every step
/// feeds only the newest token; without it every step recomputes the whole prefix (same result, for benchmarks).
/// </summary>
public static class NextTokenSampler
{
    /// <summary>labels int64 [B] (validated) → tokens int64 [B, L].</summary>
    /// <param name="stepLogits">Receives the (guided) logits [B, V] each step samples from, before temperature.</param>
    public static Tensor Sample(Transformer model, Tensor labels, SamplingOptions options, torch.Generator? generator,
        Action<Tensor>? stepLogits = null)
    {
        var config = model.Config;
        int length = config.SequenceLength;
        bool guided = options.CfgScale != 1.0;
        long batch = labels.shape[0];

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var conditions = guided
            ? torch.cat([labels, torch.full(batch, config.NumClasses, ScalarType.Int64, labels.device)])   // [2B]
            : labels;
        var tokens = torch.empty([batch, length], ScalarType.Int64, labels.device);                       // [B, L]
        var caches = options.UseKvCache ? model.CreateCaches(conditions.shape[0], GptConfig.ClassTokens + length) : null;

        Tensor? newest = null;   // [B', 1]: the token fed at this step
        for (int step = 0; step < length; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            Tensor hidden;
            if (caches is not null)
            {
                var input = step == 0 ? model.EmbedClasses(conditions) : model.EmbedTokens(newest!);    // [B', 1, D]
                hidden = model.Hidden(input, step, caches);                                             // [B', 1, D]
            }
            else
            {
                var prefix = tokens.narrow(1, 0, step);                                                 // [B, step]
                var input = torch.cat([model.EmbedClasses(conditions), model.EmbedTokens(guided ? torch.cat([prefix, prefix]) : prefix)], 1);
                hidden = model.Hidden(input, 0, null);                                                  // [B', 1+step, D]
            }
            var logits = Autocast.Float(model.Logits(hidden.select(1, -1)));                            // [B', V], guidance and softmax in fp32
            if (guided)
            {
                var cond = logits.narrow(0, 0, batch);
                var uncond = logits.narrow(0, batch, batch);
                logits = uncond + (cond - uncond) * GuidanceScale(options, step, length);               // [B, V]
            }
            stepLogits?.Invoke(logits);
            var next = LogitFilter.Sample(logits, options, generator);                                  // [B]
            tokens.select(1, step).copy_(next);
            newest?.Dispose();
            newest = (guided ? torch.cat([next, next]) : next).unsqueeze(1).MoveToOuterDisposeScope();
        }
        return tokens.MoveToOuterDisposeScope();
    }

    /// <summary>Constant (official) or rising linearly from 1 (no guidance) at the first step to the full scale at the last.</summary>
    static double GuidanceScale(SamplingOptions options, int step, int length) =>
        (options.Schedule ?? GuidanceSchedule.Constant) switch
        {
            GuidanceSchedule.Linear when length > 1 => 1 + (options.CfgScale - 1) * step / (length - 1),
            _ => options.CfgScale,
        };
}
