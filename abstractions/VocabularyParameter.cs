using static TorchSharp.torch;

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
