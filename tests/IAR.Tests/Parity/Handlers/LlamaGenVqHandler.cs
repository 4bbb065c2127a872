using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>LlamaGen's VQModel: encode, decode from codes, the full forward and the training losses.</summary>
public sealed class LlamaGenVqHandler : IParityHandler
{
    public string Kind => "llamagen-vq";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var images = c.Input("images");                                                          // [B, C, H, W]
        var tokenizer = LlamaGenParityModels.Vq(c, new ImageShape((int)images.shape[1], (int)images.shape[2], (int)images.shape[3]));
        var network = tokenizer.Network;
        var grid = tokenizer.Info.Layout.FinalGrid;

        tokenizer.Module.eval();
        var indices = tokenizer.Encode(images);                                                  // [B, h·w]
        var results = new Dictionary<string, Tensor>
        {
            ["indices"] = indices.flatten(),
            ["indices_hw"] = indices.view(indices.shape[0], grid.Height, grid.Width),
            ["pre_quant"] = network.PreQuant(images),
            ["quant"] = network.Encode(images, withLosses: false).Quantized,
            ["decoded_from_code"] = network.DecodeCodes(indices),
            ["reconstruction"] = tokenizer.Reconstruct(images).Reconstruction,
        };

        tokenizer.Module.train();
        var training = tokenizer.Reconstruct(images);
        Tensor Weighted(string name)
        {
            var term = tokenizer.TrainingLossTerms.Single(t => t.Name == name);
            return c.AsStored(name == "codebook" ? "train_vq_loss" : "train_commit_loss",
                term.Compute(images, training) * term.Weight);
        }
        results["train_vq_loss"] = Weighted("codebook");
        results["train_commit_loss"] = Weighted("commitment");
        return results;
    }
}
