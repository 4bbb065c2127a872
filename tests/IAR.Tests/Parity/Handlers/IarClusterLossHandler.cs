using IAR.Host.Training;
using IAR.Host.Iar;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// IAR's cluster-oriented loss on given logits: cluster logits, cluster targets, and both losses as training computes
/// them (<see cref="GeneratorLoss.Compute"/>: one shared log-softmax).
/// </summary>
public sealed class IarClusterLossHandler : IParityHandler
{
    public string Kind => "iar-cluster-loss";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var logits = c.Input("logits");     // [B, T, V]
        var targets = c.Input("targets");   // [B, T]
        int vocab = c.Config.GetProperty("vocab_size").GetInt32();
        int clusterSize = c.Config.GetProperty("cluster_size").GetInt32();
        if (c.Config.GetProperty("alpha").GetDouble() != 1)
            throw new InvalidDataException($"{c.Dir}: alpha ≠ 1 is a temperature the official training never uses; ClusterCrossEntropy has none.");
        var loss = new ClusterCrossEntropy(ClusterLayout.Uniform(vocab, clusterSize));
        var values = GeneratorLoss.Sum(new TokenCrossEntropy(), loss).Compute(logits, targets).Terms;
        return new Dictionary<string, Tensor>
        {
            ["cluster_logits"] = loss.ClusterLogits(logits),
            ["cluster_targets"] = loss.ClusterTargets(targets),
            ["cluster_ce"] = c.AsStored("cluster_ce", values[1]),
            ["token_ce"] = c.AsStored("token_ce", values[0]),
        };
    }
}
