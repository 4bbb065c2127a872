using static TorchSharp.torch;
using TorchSharp;

namespace IAR.Abstractions;

/// <summary>
/// A tensor of a model whose slices along <see cref="Axis"/> are indexed by codebook index: token-embedding rows,
/// output-head rows and biases, the codebook itself. Permuting these (new = old.index_select(axis, newToOld))
/// renumbers the vocabulary without changing what the model computes.
/// </summary>
/// <param name="Name">The state-dict key, e.g. <c>tok_embeddings.weight</c>.</param>
/// <param name="Tensor">The live parameter or buffer (not a copy).</param>
/// <param name="Axis">The axis indexed by vocabulary index.</param>
public sealed record VocabularyParameter(string Name, Tensor Tensor, int Axis);

/// <summary>
/// Finds vocabulary-indexed tensors a generator forgot to declare in <see cref="IGenerator.VocabularyParameters"/>.
/// Rearranging the codebook permutes only the declared tensors, so a forgotten one (an output bias) silently changes
/// what a pretrained generator computes. The contract tests and the host (before it rearranges a pretrained
/// generator) run the same check.
/// <para>
/// Shape alone cannot decide: a hidden width can equal V by coincidence (VAR-d16's MLP width 4096 = its V; the tiny
/// LlamaGen presets' GPT dim 64 = VQ-T's V). So <see cref="Undeclared"/> first probes what the model computes: it
/// permutes the declared tensors in place with a permutation that fixes the probe's input token, runs the forward
/// again, and only if the logits are not the permuted logits does it name the suspects by shape. The probe sees the
/// output side (head rows, output bias); an undeclared input-side tensor (token embedding) is caught by the
/// contract tests' full equivariance test, which also permutes the input tokens.
/// </para>
/// </summary>
public static class VocabularyParameterCheck
{
    /// <summary>
    /// The undeclared vocabulary-indexed tensors of <paramref name="generator"/>: empty when permuting the declared
    /// ones permutes the logits (within float tolerance). Otherwise every undeclared state-dict entry with an axis of
    /// <paramref name="vocabularySize"/> entries, as <c>name [shape]</c>, or one sentence when no entry has such an axis.
    /// The generator is left exactly as it was (declared tensors restored, train/eval mode restored).
    /// </summary>
    /// <exception cref="ArgumentException">A declared tensor has no axis of <paramref name="vocabularySize"/> entries.</exception>
    public static IReadOnlyList<string> Undeclared(IGenerator generator, int vocabularySize)
    {
        foreach (var p in generator.VocabularyParameters)
            if (p.Axis < 0 || p.Axis >= p.Tensor.dim() || p.Tensor.shape[p.Axis] != vocabularySize)
                throw new ArgumentException(
                    $"Vocabulary parameter '{p.Name}' [{string.Join(", ", p.Tensor.shape)}] has no axis {p.Axis} of {vocabularySize} entries.");
        if (vocabularySize < 3 || OutputSideIsEquivariant(generator, vocabularySize)) return [];
        var suspects = SizedLikeVocabulary(generator.Module, generator.VocabularyParameters, vocabularySize);
        return suspects.Count > 0
            ? suspects
            : [NoSuspect(vocabularySize)];
    }

    /// <summary>
    /// What to fix when permuting <paramref name="generator"/>'s declared vocabulary tensors does not permute its
    /// logits, as one sentence naming the plugin and the tensors; null when it does (<see cref="Undeclared"/>).
    /// </summary>
    public static string? Problem(IGenerator generator, int vocabularySize)
    {
        var undeclared = Undeclared(generator, vocabularySize);
        if (undeclared.Count == 0) return null;
        var who = $"{generator.Info.Plugin}/{generator.Info.Preset}";
        if (undeclared is [var only] && only == NoSuspect(vocabularySize))
            return $"{who}: permuting its declared VocabularyParameters does not permute its logits, and {only}.";
        return $"{who} does not declare {string.Join(", ", undeclared)} among its VocabularyParameters, so its logits would not follow a permutation; " +
               "declare each tensor indexed by token with its vocabulary axis (a hidden width that merely equals V needs no declaration).";
    }

    /// <summary>
    /// Adds seeded noise (std 0.05) to every floating-point parameter, so that a tensor initialised to a constant (a
    /// zero output head or bias, as official LlamaGen has) still takes part in <see cref="Undeclared"/>'s comparison.
    /// For throwaway models only: the weights change.
    /// </summary>
    public static void Perturb(nn.Module module, long seed)
    {
        using var g = new torch.Generator((ulong)seed);
        using var _ = torch.no_grad();
        foreach (var p in module.parameters())
            if (p.is_floating_point())
            {
                using var noise = torch.randn(p.shape, generator: g).to(p.dtype, p.device) * 0.05;
                p.add_(noise);
            }
    }

    static string NoSuspect(int vocabularySize) =>
        $"no undeclared parameter or buffer has an axis of V = {vocabularySize} entries, so the tensor over the vocabulary that breaks it is " +
        "not in the state dict (a constant, a non-persistent buffer or a tensor built in Forward, e.g. a fixed bias over the logits): register it " +
        "as a parameter or buffer and declare it in VocabularyParameters with its vocabulary axis, or compute it from declared tensors";

    /// <summary>
    /// State-dict entries of <paramref name="module"/> with an axis of <paramref name="vocabularySize"/> entries that
    /// are not among <paramref name="declared"/>, as <c>name [shape]</c>. Suspects only: a hidden width may equal V.
    /// </summary>
    public static IReadOnlyList<string> SizedLikeVocabulary(nn.Module module, IEnumerable<VocabularyParameter> declared, int vocabularySize)
    {
        var names = declared.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return module.state_dict()
            .Where(e => !names.Contains(e.Key) && e.Value.shape.Contains(vocabularySize))
            .Select(e => $"{e.Key} [{string.Join(", ", e.Value.shape)}]")
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>
    /// Logits for one sequence of token 0 and label 0, before and after permuting the declared tensors with a
    /// permutation that keeps index 0 in place (so the input is the same however the model reads its tokens).
    /// </summary>
    static bool OutputSideIsEquivariant(IGenerator generator, int vocabularySize)
    {
        var module = generator.Module;
        var wasTraining = module.training;
        module.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var device = generator.VocabularyParameters.Count > 0 ? generator.VocabularyParameters[0].Tensor.device : torch.CPU;
        var batch = new TokenBatch(
            torch.zeros(1, generator.Info.Layout.SequenceLength, ScalarType.Int64, device),
            torch.zeros(1, ScalarType.Int64, device));
        using var rng = new torch.Generator(20251201);
        var newToOld = torch.cat([torch.zeros(1, ScalarType.Int64), torch.randperm(vocabularySize - 1, generator: rng) + 1]).to(device);
        var oldToNew = newToOld.argsort();
        try
        {
            var before = generator.Forward(batch).Logits.to(ScalarType.Float64);                 // [1, L, V]
            Permute(generator.VocabularyParameters, newToOld);
            Tensor after;
            try
            {
                after = generator.Forward(batch).Logits.to(ScalarType.Float64);
            }
            finally
            {
                Permute(generator.VocabularyParameters, oldToNew);
            }
            var expected = before.index_select(-1, newToOld);
            // Permuted rows of a matmul may reassociate differently; allow a few float32 ulps of the logit scale.
            var tolerance = 1e-4 * Math.Max(1.0, before.abs().max().item<double>());
            return (after - expected).abs().max().item<double>() <= tolerance;
        }
        finally
        {
            module.train(wasTraining);
        }
    }

    static void Permute(IEnumerable<VocabularyParameter> parameters, Tensor newToOld)
    {
        foreach (var p in parameters)
        {
            using var reordered = p.Tensor.index_select(p.Axis, newToOld);
            p.Tensor.copy_(reordered);
        }
    }
}
