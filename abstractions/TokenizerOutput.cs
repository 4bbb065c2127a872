using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>The training forward of a tokenizer.</summary>
/// <param name="Reconstruction">[B, C, H, W], the decoded images (not clamped, so gradients flow).</param>
/// <param name="Tokens">int64 [B, L], the indices chosen by the quantizer.</param>
/// <param name="AuxiliaryLosses">
/// Unweighted scalar losses of the quantizer by name (e.g. <c>codebook</c>, <c>commitment</c>, <c>entropy</c>);
/// the tokenizer's <see cref="ITokenizer.TrainingLossTerms"/> weight them.
/// </param>
public sealed record TokenizerOutput(Tensor Reconstruction, Tensor Tokens, IReadOnlyDictionary<string, Tensor> AuxiliaryLosses);
