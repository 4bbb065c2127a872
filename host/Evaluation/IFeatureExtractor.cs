namespace IAR.Host.Evaluation;

/// <summary>
/// Maps images to the feature vectors FID and precision/recall compare, and to class scores for the Inception Score
/// and class accuracy. The project's small CNN implements it for Fashion-MNIST-like data; an Inception-v3 with
/// user-supplied weights is the natural implementation for ImageNet-style data.
/// </summary>
public interface IFeatureExtractor
{
    /// <summary>One line for reports, e.g. "small CNN, 128-d features, test accuracy 91.3 %".</summary>
    string Description { get; }

    /// <summary>D, the length of a feature vector; FID needs more than D samples for a full-rank covariance.</summary>
    int FeatureDimension { get; }

    /// <summary>K, the number of classes its logits score.</summary>
    int NumClasses { get; }

    /// <summary>Features and class logits of a set of images (evaluation mode, no gradients).</summary>
    /// <param name="images">float [N, C, H, W] in [-1, 1]; the extractor adapts size and channels to what it was trained on.</param>
    /// <param name="batchSize">Images per forward pass.</param>
    ExtractedFeatures Extract(TorchSharp.torch.Tensor images, int batchSize = 256);
}
