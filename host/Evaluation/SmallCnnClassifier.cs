using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>
/// A small convolutional classifier whose global-average-pooled last stage is the feature space of the evaluation
/// (the role Inception-v3's pool3 plays for ImageNet): three conv-BN-ReLU stages (w, 2w, 4w channels, 2× max-pool
/// between them), global average pooling → features [N, 4w], one linear layer → logits [N, K].
/// </summary>
public sealed class SmallCnnClassifier : nn.Module<Tensor, Tensor>
{
    // Field names are the state-dict keys.
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly Conv2d conv2;
    readonly BatchNorm2d bn2;
    readonly Conv2d conv3;
    readonly BatchNorm2d bn3;
    readonly Linear head;

    public SmallCnnClassifier(SmallCnnConfig config) : base("SmallCnnClassifier")
    {
        Config = config;
        int w = config.Width;
        conv1 = nn.Conv2d(config.Channels, w, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(w);
        conv2 = nn.Conv2d(w, 2 * w, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(2 * w);
        conv3 = nn.Conv2d(2 * w, 4 * w, 3, padding: 1, bias: false);
        bn3 = nn.BatchNorm2d(4 * w);
        head = nn.Linear(4 * w, config.NumClasses);
        RegisterComponents();
    }

    public SmallCnnConfig Config { get; }

    /// <summary>[N, C, S, S] → logits [N, K].</summary>
    public override Tensor forward(Tensor images) => head.forward(Features(images));

    /// <summary>[N, C, S, S] → features [N, 4w] (non-negative: averaged ReLU outputs).</summary>
    public Tensor Features(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var x = nn.functional.relu(bn1.forward(conv1.forward(images)));          // [N, w, S, S]
        x = nn.functional.max_pool2d(x, 2);                                       // [N, w, S/2, S/2]
        x = nn.functional.relu(bn2.forward(conv2.forward(x)));                   // [N, 2w, S/2, S/2]
        x = nn.functional.max_pool2d(x, 2);                                       // [N, 2w, S/4, S/4]
        x = nn.functional.relu(bn3.forward(conv3.forward(x)));                   // [N, 4w, S/4, S/4]
        return x.mean([2, 3]).MoveToOuterDisposeScope();                         // [N, 4w]
    }

    /// <summary>Logits from features (the last layer alone).</summary>
    public Tensor Classify(Tensor features) => head.forward(features);
}
