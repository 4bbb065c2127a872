using IAR.Abstractions;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// One term of the VQVAE's training loss. The official VQVAE returns vq_loss = mean over scales of
/// (‖f̂ − sg(f)‖² + β·‖sg(f̂) − f‖²); its two parts are logged apart as <c>codebook</c> and <c>commitment</c> (weight β),
/// next to the pixel reconstruction <c>reconstruction_l2</c>. (VAR's perceptual and GAN losses are not part of
/// this plugin.)
/// </summary>
internal sealed class VqVaeLossTerm : ITokenizerLossTerm
{
    public const string Reconstruction = "reconstruction_l2";
    public const string Codebook = "codebook";
    public const string Commitment = "commitment";

    VqVaeLossTerm(string name, double weight)
    {
        Name = name;
        Weight = weight;
    }

    public string Name { get; }

    public double Weight { get; }

    public static IReadOnlyList<ITokenizerLossTerm> For(VqVaeOptions o) =>
        [new VqVaeLossTerm(Reconstruction, o.ReconstructionWeight), new VqVaeLossTerm(Codebook, 1.0), new VqVaeLossTerm(Commitment, o.Beta)];

    public Tensor Compute(Tensor images, TokenizerOutput output) => Name == Reconstruction
        ? TorchSharp.torch.nn.functional.mse_loss(output.Reconstruction, images)
        : output.AuxiliaryLosses[Name];
}
