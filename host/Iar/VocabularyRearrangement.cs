using IAR.Abstractions;
using IAR.Host.Iar;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Iar;

/// <summary>Rearranges a model's vocabulary-indexed tensors in place (<see cref="VocabularyParameter"/>).</summary>
public static class VocabularyRearrangement
{
    /// <summary>Every tensor's slices along its axis into the new order: <c>t = t.index_select(axis, new_to_old)</c>.</summary>
    /// <exception cref="InvalidOperationException">A tensor's vocabulary axis does not have V entries (the tensor is named).</exception>
    public static void Rearrange(IEnumerable<VocabularyParameter> parameters, CodebookPermutation permutation) =>
        Apply(parameters, permutation, (t, axis) => permutation.Rearrange(t, axis));

    /// <summary>Undoes <see cref="Rearrange"/>: slices back into the original order.</summary>
    public static void Restore(IEnumerable<VocabularyParameter> parameters, CodebookPermutation permutation) =>
        Apply(parameters, permutation, (t, axis) => permutation.Restore(t, axis));

    /// <summary>Copies of a state dict with the vocabulary-indexed entries rearranged (the rest shared, not copied).</summary>
    public static Dictionary<string, Tensor> RearrangedStateDict(
        nn.Module module, IEnumerable<VocabularyParameter> parameters, CodebookPermutation permutation)
    {
        var state = new Dictionary<string, Tensor>(module.state_dict(), StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            Check(p, permutation);
            if (!state.ContainsKey(p.Name))
                throw new InvalidOperationException($"Vocabulary parameter '{p.Name}' is not a key of the module's state dict.");
            state[p.Name] = permutation.Rearrange(state[p.Name].detach(), p.Axis);
        }
        return state;
    }

    static void Apply(IEnumerable<VocabularyParameter> parameters, CodebookPermutation permutation, Func<Tensor, long, Tensor> reorder)
    {
        using var _ = torch.no_grad();
        foreach (var p in parameters)
        {
            Check(p, permutation);
            using var reordered = reorder(p.Tensor, p.Axis);
            p.Tensor.copy_(reordered);
        }
    }

    static void Check(VocabularyParameter p, CodebookPermutation permutation)
    {
        if (p.Axis < 0 || p.Axis >= p.Tensor.dim() || p.Tensor.shape[p.Axis] != permutation.Count)
            throw new InvalidOperationException(
                $"Vocabulary parameter '{p.Name}' [{string.Join(", ", p.Tensor.shape)}] has no axis {p.Axis} of {permutation.Count} entries to rearrange.");
    }
}
