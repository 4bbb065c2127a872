using F = TorchSharp.torch.nn.functional;
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

/// <summary>Mean squared error between the reconstruction and the input (official reconstruction_loss 'l2').</summary>
public sealed record ReconstructionLoss(double Weight) : ITokenizerLossTerm
{
    public string Name => "reconstruction_l2";

    public Tensor Compute(Tensor images, TokenizerOutput output) => F.mse_loss(output.Reconstruction, images);
}
