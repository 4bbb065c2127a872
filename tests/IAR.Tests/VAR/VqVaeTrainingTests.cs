using IAR.ContractTests;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.VAR;

/// <summary>The VQVAE's training forward: gradients reach every part, and it agrees with inference.</summary>
public class VqVaeTrainingTests
{
    [Fact]
    public void Every_loss_term_reaches_its_parameters()
    {
        var tokenizer = VarTestModels.SmallTokenizer(5);
        tokenizer.Module.train();
        var images = ContractSeeds.Images(2, tokenizer.Info.Image);
        var output = tokenizer.Reconstruct(images);
        var grads = new Dictionary<string, double>();
        foreach (var term in tokenizer.TrainingLossTerms)
        {
            tokenizer.Module.zero_grad();
            term.Compute(images, output).backward(retain_graph: true);
            foreach (var (name, p) in tokenizer.Module.named_parameters())
                grads[$"{term.Name}:{name}"] = p.grad is null ? 0 : p.grad.abs().sum().item<float>();
        }
        // Pixel loss: through the decoder, and straight through the quantizer into the encoder.
        Assert.True(grads["reconstruction_l2:decoder.conv_out.weight"] > 0);
        Assert.True(grads["reconstruction_l2:encoder.conv_in.weight"] > 0);
        Assert.Equal(0, grads["reconstruction_l2:quantize.embedding.weight"]);
        // Codebook loss moves the codes and φ; commitment loss moves the encoder only.
        Assert.True(grads["codebook:quantize.embedding.weight"] > 0);
        Assert.True(grads["codebook:quantize.quant_resi.qresi_ls.0.weight"] > 0);
        Assert.Equal(0, grads["codebook:encoder.conv_in.weight"]);
        Assert.True(grads["commitment:encoder.conv_in.weight"] > 0);
        Assert.Equal(0, grads["commitment:quantize.embedding.weight"]);
    }

    [Fact]
    public void The_training_forward_reconstructs_what_encode_then_decode_gives_and_records_code_usage()
    {
        var tokenizer = VarTestModels.SmallTokenizer(6);
        using var scope = torch.NewDisposeScope();
        var images = ContractSeeds.Images(2, tokenizer.Info.Image);
        tokenizer.Module.train();
        var output = tokenizer.Reconstruct(images);
        tokenizer.Module.eval();
        var tokens = tokenizer.Encode(images);
        TensorAssert.Identical(tokens, output.Tokens, "indices");
        TensorAssert.Close(tokenizer.Decode(tokens), output.Reconstruction.detach().clamp(-1, 1), 1e-5, 1e-5, "images");
        Assert.True(tokenizer.VocabularyParameters[1].Tensor.sum().item<float>() > 0, "ema_vocab_hit_SV was not updated in training");
    }

    /// <summary>
    /// Every gradient of the encoder → decoder path equals a float64 computation of the same network. This guards
    /// against the oneDNN bug worked around by ChannelPaddedConv2d (wrong input gradients of k×k convolutions with an
    /// output-channel count that is not a multiple of 16, here the 8-channel latent convs and the 1-channel image conv).
    /// </summary>
    [Fact]
    public void Gradients_agree_with_a_float64_reference()
    {
        var single = VarTestModels.SmallTokenizer(9);
        var reference = VarTestModels.SmallTokenizer(10);
        StateDictRoundTrip.Copy(single.Module, reference.Module, "VQVAE-T");
        reference.Module.to(ScalarType.Float64);
        var images = ContractSeeds.Images(2, single.Info.Image);   // batch > 1: the oneDNN path
        foreach (var (tokenizer, input) in new[] { (single, images), (reference, images.to(ScalarType.Float64)) })
        {
            tokenizer.Module.train();
            tokenizer.Vae.DecodeFeatures(tokenizer.Vae.Features(input)).square().mean().backward();
        }
        var expected = reference.Module.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!);
        double scale = expected.Values.Max(g => g.abs().max().item<double>());
        foreach (var (name, p) in single.Module.named_parameters())
        {
            if (name.StartsWith("quantize.", StringComparison.Ordinal)) continue;   // not on this path
            // Float32 rounding in gradients that sum many cancelling terms is ~1e-3 of their scale; the oneDNN bug gives
            // errors of the order of the gradients themselves, or NaN (which Close alone would not catch).
            var e = expected[name];
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{name}: gradient is not finite");
            TensorAssert.Close(e, p.grad!, atol: 2e-2 * e.abs().max().item<double>() + 1e-5 * scale, rtol: 2e-2, name);
        }
    }
}
