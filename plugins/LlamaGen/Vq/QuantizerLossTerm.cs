using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>
/// One of the quantizer's own losses, read from <see cref="TokenizerOutput.AuxiliaryLosses"/> by name and weighted
/// as officially: <c>codebook</c> (1), <c>commitment</c> (β), <c>entropy</c> (entropy_loss_ratio).
/// </summary>
public sealed record QuantizerLossTerm(string Name, double Weight) : ITokenizerLossTerm
{
    public Tensor Compute(Tensor images, TokenizerOutput output) =>
        output.AuxiliaryLosses.TryGetValue(Name, out var loss)
            ? loss
            : throw new InvalidOperationException(
                $"The tokenizer output has no '{Name}' loss (it has: {string.Join(", ", output.AuxiliaryLosses.Keys)}); it must come from Reconstruct.");
}
