using IAR.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>Mean squared error between the reconstruction and the input (official reconstruction_loss 'l2').</summary>
public sealed record ReconstructionLoss(double Weight) : ITokenizerLossTerm
{
    public string Name => "reconstruction_l2";

    public Tensor Compute(Tensor images, TokenizerOutput output) => F.mse_loss(output.Reconstruction, images);
}
