using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>One weighted term of a tokenizer's training loss; the trainer logs every term separately.</summary>
public interface ITokenizerLossTerm
{
    /// <summary>Short name used in logs and metrics, e.g. <c>reconstruction_l2</c>.</summary>
    string Name { get; }

    double Weight { get; }

    /// <summary>The unweighted scalar value of the term.</summary>
    /// <param name="images">[B, C, H, W], the input images in [-1, 1].</param>
    /// <param name="output">The tokenizer's training forward on those images.</param>
    Tensor Compute(Tensor images, TokenizerOutput output);
}
