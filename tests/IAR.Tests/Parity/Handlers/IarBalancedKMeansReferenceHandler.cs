using IAR.Host.Iar;
using IAR.Host.Experiments;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// The balanced k-means quality reference. It has nothing to compare exactly (the official initial centres come from
/// the global RNG), so the handler returns no tensors and instead fails unless our rearrangement of the same codebook
/// is exactly balanced and its within-cluster error is at most the official one. Iar/ReferenceFixtureTests checks more.
/// </summary>
public sealed class IarBalancedKMeansReferenceHandler : IParityHandler
{
    public string Kind => "iar-balanced-kmeans-reference";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var reference = c.Case.GetProperty("quality_reference");
        double officialError = reference.GetProperty("official_total_intra_cluster_mse").GetDouble();
        int clusterSize = c.Config.GetProperty("vectors_per_class").GetInt32();
        var plan = CodebookRearrangement.Plan(new IarSpec { Enabled = true, ClusterSize = clusterSize }, c.Input("codebook"), seed: 0);
        if (!plan.Layout.IsUniform || plan.Layout.UniformSize != clusterSize)
            throw new XunitException($"{c.Name}: clusters are not exactly balanced: {plan.Layout}.");
        if (!(plan.Stats.ErrorAfter <= officialError))                                       // a NaN error fails too
            throw new XunitException($"{c.Name}: within-cluster error {plan.Stats.ErrorAfter:F3} is above the official {officialError:F3}.");
        return new Dictionary<string, Tensor>();
    }
}
