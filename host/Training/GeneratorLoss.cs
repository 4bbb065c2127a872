using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>One term of an objective and its weight in the total.</summary>
public sealed record WeightedTerm(ILossTerm Term, double Weight);

/// <summary>
/// The generator's objective, <c>L = Σ weight·term</c>, built from the experiment: token CE (weight 1), IAR's cluster
/// CE (weight λ = <c>iar.lambda</c>) when the arm's vocabulary is rearranged into clusters, and the extra terms named
/// under <c>training.loss</c>. It owns the terms and their weights and returns the total and each unweighted term;
/// the trainer back-propagates the total and logs the terms, multiplying nothing.
/// </summary>
public sealed class GeneratorLoss
{
    /// <exception cref="ArgumentException">No term, a repeated name, or a weight that is negative or not finite.</exception>
    public GeneratorLoss(IReadOnlyList<WeightedTerm> terms)
    {
        if (terms.Count == 0) throw new ArgumentException("A generator's loss needs at least one term.", nameof(terms));
        if (terms.Select(t => t.Term.Name).Distinct().Count() != terms.Count)
            throw new ArgumentException($"Loss terms must have distinct names: {string.Join(", ", terms.Select(t => t.Term.Name))}.", nameof(terms));
        if (terms.FirstOrDefault(t => !(t.Weight >= 0) || double.IsInfinity(t.Weight)) is { } bad)
            throw new ArgumentException($"The weight of loss term {bad.Term.Name} is {bad.Weight}; a finite weight ≥ 0 is accepted.", nameof(terms));
        Terms = terms;
    }

    public IReadOnlyList<WeightedTerm> Terms { get; }

    /// <summary>The plain sum of <paramref name="terms"/> (each weight 1).</summary>
    public static GeneratorLoss Sum(params ILossTerm[] terms) => new(terms.Select(t => new WeightedTerm(t, 1.0)).ToArray());

    /// <summary>
    /// The arm's objective. <paramref name="clusters"/>: the clusters of the arm's rearranged vocabulary (null for the
    /// baseline); <paramref name="extraTerms"/>: the terms <c>training.loss</c> can name (the host's and the plugins').
    /// </summary>
    /// <exception cref="ConfigurationException"><c>training.loss</c> names a term that does not exist.</exception>
    public static GeneratorLoss For(ExperimentSpec spec, ClusterLayout? clusters, LossTermCatalog extraTerms)
    {
        List<WeightedTerm> terms = [new(new TokenCrossEntropy(spec.Training.LabelSmoothing), 1.0)];
        // IAR: L = L_token + λ·L_cluster, the cluster logits being the logsumexp of each cluster's token logits.
        if (clusters is not null)
            terms.Add(new(new ClusterCrossEntropy(clusters, spec.Iar.LabelSmoothing), spec.Iar.Lambda));
        foreach (var (name, weight) in spec.Training.Loss)
            terms.Add(new(extraTerms.Create(name), weight));
        return new GeneratorLoss(terms);
    }

    /// <summary>
    /// The weighted total and every unweighted term, in order. Terms that work from log-probabilities
    /// (<see cref="ILogProbabilityLossTerm"/>: token CE, cluster CE) share one <c>log_softmax</c> over [B·L, V]; the
    /// others get the raw logits. With token CE + cluster CE this keeps IAR's extra term to a gather of the target
    /// cluster's m log-probabilities per position instead of a second pass over the whole vocabulary.
    /// </summary>
    /// <param name="logits">float [B, L, V].</param>
    /// <param name="targets">int64 [B, L].</param>
    public LossValues Compute(Tensor logits, Tensor targets)
    {
        Tensor? logProbabilities = null, flatTargets = null;
        var values = new Tensor[Terms.Count];
        Tensor? total = null;
        for (int i = 0; i < Terms.Count; i++)
        {
            var (term, weight) = Terms[i];
            values[i] = term is ILogProbabilityLossTerm shared
                ? shared.ComputeFromLogProbabilities(
                    logProbabilities ??= logits.reshape(-1, logits.shape[^1]).log_softmax(-1),   // [B·L, V]
                    flatTargets ??= targets.reshape(-1))                                          // [B·L]
                : term.Compute(logits, targets);
            var weighted = weight == 1 ? values[i] : values[i] * weight;
            total = total is null ? weighted : total + weighted;
        }
        return new LossValues(total!, values);
    }

    /// <summary><c>token_ce + 0.5·cluster_ce</c>: the objective as the run log states it.</summary>
    public override string ToString() => string.Join(" + ", Terms.Select(t =>
        t.Weight == 1 ? t.Term.Name : $"{t.Weight.ToString("G4", CultureInfo.InvariantCulture)}·{t.Term.Name}"));
}

/// <summary>The default loss term: cross-entropy of the token logits against the target indices (mean over B·L).</summary>
/// <param name="LabelSmoothing">Label smoothing in [0, 1) (PyTorch's definition: ε spread uniformly over the V classes).</param>
public sealed record TokenCrossEntropy(double LabelSmoothing = 0.0) : ILogProbabilityLossTerm
{
    public string Name => "token_ce";

    public Tensor Compute(Tensor logits, Tensor targets)
    {
        long vocab = logits.shape[^1];
        return nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), label_smoothing: LabelSmoothing);
    }

    /// <summary>(1 − ε)·NLL + ε·mean over the vocabulary of −log p.</summary>
    public Tensor ComputeFromLogProbabilities(Tensor logProbabilities, Tensor targets)
    {
        var nll = nn.functional.nll_loss(logProbabilities, targets);
        if (LabelSmoothing == 0) return nll;
        using var scope = torch.NewDisposeScope();
        return ((1 - LabelSmoothing) * nll - LabelSmoothing * logProbabilities.mean()).MoveToOuterDisposeScope();
    }
}
