using IAR.Plugins.VAR;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// <c>var-vqvae</c>: the official VQVAE's index lists, teacher-forcing input, decoded image, reconstruction and the
/// per-scale f̂ on the same images and weights.
/// </summary>
public sealed class VarVqVaeParityHandler : IParityHandler
{
    public string Kind => "var-vqvae";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase parityCase)
    {
        var images = parityCase.Input("images");
        var tokenizer = VarParityConfig.Tokenizer(parityCase.Config, (int)images.shape[2], parityCase.File_("weights.safetensors"),
            $"{parityCase.Dir}/config.json");
        tokenizer.Module.to(ParityCase.Device).eval();

        var result = new Dictionary<string, Tensor>();
        var scales = tokenizer.EncodeScales(images);
        for (int si = 0; si < scales.Count; si++) result[$"idx_s{si}"] = scales[si];
        var tokens = torch.cat(scales.ToArray(), 1);
        result["var_input"] = tokenizer.TeacherForcingInput(tokenizer.LookupCodes(tokens));
        result["img_from_idx"] = tokenizer.Decode(tokens);

        var features = tokenizer.Vae.Features(images);
        result["debug_f"] = features;
        var fHats = tokenizer.ScaleFHats(features);
        for (int si = 0; si < fHats.Count; si++) result[$"debug_fhat_s{si}"] = fHats[si];
        result["recon_img"] = tokenizer.FHatToImage(fHats[^1]);
        return result;
    }
}
