using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// The class token: one embedding row per class, plus the null class (row num_classes) when the model is built for
/// classifier-free guidance. Substituting the null class is the caller's job (the trainer's drop mask, the sampler).
/// </summary>
public sealed class LabelEmbedder : nn.Module<Tensor, Tensor>
{
    readonly Embedding embedding_table;

    public LabelEmbedder(int numClasses, bool withNullClass, int dim, Device? device = null) : base(nameof(LabelEmbedder))
    {
        embedding_table = nn.Embedding(numClasses + (withNullClass ? 1 : 0), dim, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor labels) => embedding_table.forward(labels).unsqueeze(1);   // [B] → [B, 1, D]
}
