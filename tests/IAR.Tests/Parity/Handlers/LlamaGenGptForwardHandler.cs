using IAR.Host.Training;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// IAR's GPT training forward: logits, the token and cluster losses (the host's loss terms on the plugin's logits), the
/// RoPE table and the output of every block.
/// </summary>
public sealed class LlamaGenGptForwardHandler : IParityHandler
{
    public string Kind => "llamagen-gpt-forward";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var generator = LlamaGenParityModels.Gpt(c);
        generator.Module.train();
        var idx = c.Input("idx");
        var labels = c.Input("cond_idx");
        var targets = c.Input("targets");
        if (!idx.eq(targets.narrow(1, 0, targets.shape[1] - 1)).all().item<bool>())
            throw new InvalidDataException($"{c.Dir}: idx is not targets[:, :-1]; GptGenerator.Forward derives its input that way.");

        // The real training path: targets in, logits for every target out.
        var output = generator.Forward(new TokenBatch(targets, labels));
        var logits = Autocast.Float(output.Logits);                                             // [B, L, V]; losses in fp32 as the host takes them

        // The same forward again, observed layer by layer.
        var debug = new Dictionary<string, Tensor>();
        generator.Network.forward(labels, idx, (name, h) => debug[name] = h.clone().DetachFromDisposeScope());

        // The losses as training computes them: the objective an IAR arm with the default spec (λ = 1, no smoothing) is
        // built with, over contiguous blocks of cluster_size codes. The official loss1 is the cluster CE, loss2 the token CE.
        int m = c.Config.GetProperty("cluster_size").GetInt32();
        var loss = GeneratorLoss.For(new ExperimentSpec(), ClusterLayout.Uniform((int)logits.shape[2], m), LossTermCatalog.BuiltIn);
        var losses = loss.Compute(logits, output.Targets).Terms;
        var clusterLoss = (ClusterCrossEntropy)loss.Terms[1].Term;
        var results = new Dictionary<string, Tensor>
        {
            ["logits"] = logits,
            ["loss1"] = c.AsStored("loss1", losses[1]),
            ["loss2"] = c.AsStored("loss2", losses[0]),
            ["cluster_logits"] = clusterLoss.ClusterLogits(logits),                               // [B, L, V/m]
            ["freqs_cis"] = generator.Network.FreqsCis,
            ["debug_h_norm"] = debug["norm"],
        };
        // The output of every block (debug_h_layer{k}, [B, L, D]), whatever depth the case's model has.
        foreach (var (name, h) in debug)
            if (name.StartsWith("layers.", StringComparison.Ordinal)) results["debug_h_layer" + name["layers.".Length..]] = h;
        return results;
    }
}
