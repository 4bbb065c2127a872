using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>
/// An image tokenizer: a VQ model that maps images to codebook indices and back. Indices are the only thing the
/// IAR decorators change, so every method that takes or returns indices uses this tokenizer's own numbering.
/// </summary>
public interface ITokenizer
{
    TokenizerInfo Info { get; }

    /// <summary>The network; its state dict is the checkpoint (official key names where the plugin has them).</summary>
    nn.Module Module { get; }

    /// <summary>[V, D], a detached copy of the codebook in this tokenizer's index order.</summary>
    Tensor Codebook { get; }

    /// <summary>The codebook-indexed tensors of <see cref="Module"/> (the codebook rows, usage buffers, ...).</summary>
    IReadOnlyList<VocabularyParameter> VocabularyParameters { get; }

    /// <summary>The plugin's default training loss terms with their official weights.</summary>
    IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms { get; }

    /// <summary>float [B, C, H, W] in [-1, 1] → int64 [B, L] (L = Info.Layout.SequenceLength).</summary>
    Tensor Encode(Tensor images);

    /// <summary>int64 [B, L] → float [B, C, H, W], clamped to [-1, 1].</summary>
    Tensor Decode(Tensor tokens);

    /// <summary>int64 [...] → float [..., D]: the code vectors the decoder consumes for those indices.</summary>
    Tensor LookupCodes(Tensor tokens);

    /// <summary>The training forward: reconstruction, chosen indices and the quantizer's own losses.</summary>
    TokenizerOutput Reconstruct(Tensor images);
}
