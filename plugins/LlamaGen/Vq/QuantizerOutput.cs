using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Vq;

/// <summary>What the quantizer returns for a latent [B, D, h, w].</summary>
/// <param name="Quantized">[B, D, h, w]: the chosen code vectors, with straight-through gradients to the latent.</param>
/// <param name="Indices">int64 [B, h·w]: the chosen codes in raster order.</param>
/// <param name="Losses">Unweighted <c>codebook</c>, <c>commitment</c> (and <c>entropy</c>) losses; empty when not asked for.</param>
public sealed record QuantizerOutput(Tensor Quantized, Tensor Indices, IReadOnlyDictionary<string, Tensor> Losses);
