using IAR.Host.Iar;
using IAR.Host.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Analysis;

/// <summary>
/// The generation-time probe: at every position of a held-out sequence (teacher-forced, the true prefix), one token is
/// drawn from the generator's distribution softmax(logits / T), as sampling would draw it (conditional logits, no
/// guidance, no top-k/top-p). Among the draws that are not the target, the share that lies in the target's cluster is
/// <c>sampled_wrong_right_cluster</c>; its chance rate (a wrong code uniform over the other V − 1) is
/// <c>wrong_right_cluster_chance</c>. The argmax version (<c>wrong_top1_right_cluster</c>) is measured alongside.
/// </summary>
public sealed class SampledTokenProbe : ITokenPredictionAccumulator
{
    readonly Tensor clusterOfIndex;   // int64 [V], in the generator's numbering
    readonly double temperature;
    readonly torch.Generator generator;
    readonly double chance;
    long count, sampledHits, sampledWrong, sampledWrongInCluster, top1Wrong, top1WrongInCluster;

    /// <param name="clusterOfIndex">int64 [V]: the cluster of every index the generator predicts.</param>
    /// <param name="temperature">The sampling temperature (the run's <c>sampling.temperature</c>), &gt; 0.</param>
    /// <param name="seed">Seeds the draws.</param>
    public SampledTokenProbe(Tensor clusterOfIndex, double temperature, ulong seed)
    {
        if (clusterOfIndex.dim() != 1 || clusterOfIndex.dtype != ScalarType.Int64)
            throw new ArgumentException("clusterOfIndex must be a 1-D int64 tensor [V].", nameof(clusterOfIndex));
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be > 0.");
        this.clusterOfIndex = clusterOfIndex.detach().clone();
        this.clusterOfIndex.DetachFromDisposeScope();
        this.temperature = temperature;
        generator = new torch.Generator(seed);
        chance = TokenPredictionAccumulator.ChanceRate(clusterOfIndex);
    }

    public void Add(Tensor logits, Tensor targets)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        long vocab = logits.shape[^1];
        var flat = logits.detach().reshape(-1, vocab).to(ScalarType.Float32).cpu();         // [N, V]
        var target = targets.reshape(-1).cpu();                                             // [N]
        var probabilities = (flat / temperature).softmax(-1);
        var drawn = torch.multinomial(probabilities, 1, generator: generator).squeeze(1);   // [N]
        var top1 = flat.argmax(-1);
        var targetCluster = clusterOfIndex.index_select(0, target);
        count += target.shape[0];
        var hit = drawn.eq(target);
        sampledHits += hit.sum().item<long>();
        var wrong = hit.logical_not();
        sampledWrong += wrong.sum().item<long>();
        sampledWrongInCluster += wrong.logical_and(clusterOfIndex.index_select(0, drawn).eq(targetCluster)).sum().item<long>();
        var topWrong = top1.ne(target);
        top1Wrong += topWrong.sum().item<long>();
        top1WrongInCluster += topWrong.logical_and(clusterOfIndex.index_select(0, top1).eq(targetCluster)).sum().item<long>();
    }

    public IReadOnlyDictionary<string, double> Results()
    {
        if (count == 0) throw new InvalidOperationException("No predictions were added.");
        var results = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["sampled_token_accuracy"] = (double)sampledHits / count,
            ["wrong_right_cluster_chance"] = chance,
        };
        if (sampledWrong > 0) results["sampled_wrong_right_cluster"] = (double)sampledWrongInCluster / sampledWrong;
        if (top1Wrong > 0) results["wrong_top1_right_cluster"] = (double)top1WrongInCluster / top1Wrong;
        return results;
    }
}
