using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>What a feature extractor sees in a set of images. Owns both tensors.</summary>
/// <param name="Features">float32 [N, D].</param>
/// <param name="Logits">float32 [N, K].</param>
public sealed record ExtractedFeatures(Tensor Features, Tensor Logits) : IDisposable
{
    public void Dispose()
    {
        Features.Dispose();
        Logits.Dispose();
    }
}
