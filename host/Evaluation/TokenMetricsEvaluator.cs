using IAR.Host.Iar;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// The held-out evaluation loop of a generator: teacher-forced <see cref="IGenerator.Forward"/> over held-out token
/// batches (eval mode, no gradients, no label dropping), measuring the mean token NLL (nats) and feeding an
/// <see cref="ITokenPredictionAccumulator"/> for the accuracy-type metrics.
/// </summary>
public static class TokenMetricsEvaluator
{
    /// <returns>token_nll and whatever the accumulator reports, by metrics.jsonl name.</returns>
    public static IReadOnlyDictionary<string, double> Evaluate(IGenerator generator, HeldOutTokens heldOut, int batchSize,
        ITokenPredictionAccumulator? accumulator = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be ≥ 1");
        if (heldOut.Tokens.dim() != 2 || heldOut.Labels.dim() != 1 || heldOut.Labels.shape[0] != heldOut.Count)
            throw new ArgumentException(
                $"Held-out tokens must be [N, L] with labels [N]; got [{string.Join(", ", heldOut.Tokens.shape)}] and [{string.Join(", ", heldOut.Labels.shape)}].");
        if (heldOut.Count == 0) throw new ArgumentException("The held-out split has no sequences; token metrics need at least one.");
        using var modes = new EvalModeScope(generator.Module);
        using var noGrad = torch.no_grad();
        var device = generator.Module.parameters().FirstOrDefault()?.device ?? torch.CPU;
        double nllSum = 0;
        long count = 0;
        for (long start = 0; start < heldOut.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            long b = Math.Min(batchSize, heldOut.Count - start);
            var batch = new TokenBatch(heldOut.Tokens.narrow(0, start, b).to(device), heldOut.Labels.narrow(0, start, b).to(device));
            var output = generator.Forward(batch);                                   // logits [b, L, V], targets [b, L]
            long vocab = output.Logits.shape[^1];
            // float32 per batch (a float64 copy of [b·L, V] logits would be gigabytes), summed across batches in double
            var nll = nn.functional.cross_entropy(output.Logits.reshape(-1, vocab), output.Targets.reshape(-1), reduction: nn.Reduction.Sum);
            nllSum += nll.to(ScalarType.Float64).item<double>();
            count += output.Targets.NumberOfElements;
            accumulator?.Add(output.Logits, output.Targets);
        }
        var results = new Dictionary<string, double>(StringComparer.Ordinal) { [MetricNames.TokenNll] = nllSum / count };
        if (accumulator is not null)
            foreach (var (name, value) in accumulator.Results()) results[name] = value;
        return results;
    }
}

/// <summary>The held-out split in token form: int64 [N, L] indices (in the generator's numbering) and int64 [N] labels.</summary>
public sealed record HeldOutTokens(Tensor Tokens, Tensor Labels)
{
    public long Count => Tokens.shape[0];
}
