using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>SwiGLU: w2(silu(w1 x) · w3 x), no biases, dropout on the output.</summary>
public sealed class FeedForward : nn.Module
{
    readonly Linear w1;
    readonly Linear w3;
    readonly Linear w2;
    readonly double dropout;

    public FeedForward(GptConfig config, Device? device = null) : base(nameof(FeedForward))
    {
        int dim = config.Options.Dim, hidden = config.FfnHiddenDim;
        w1 = nn.Linear(dim, hidden, hasBias: false, device: device);
        w3 = nn.Linear(dim, hidden, hasBias: false, device: device);
        w2 = nn.Linear(hidden, dim, hasBias: false, device: device);
        dropout = config.Options.FfnDropoutP;
        RegisterComponents();
    }

    /// <param name="x">[B, S, D].</param>
    /// <param name="masks">The forward pass's dropout masks.</param>
    public Tensor forward(Tensor x, DropoutMasks masks)
    {
        using var scope = torch.NewDisposeScope();
        var gated = F.silu(Autocast.Linear(w1, x)).mul_(Autocast.Linear(w3, x));  // [B, S, hidden]
        var output = Autocast.Linear(w2, gated);                                  // [B, S, D]
        return (training && dropout > 0 ? masks.Apply(output, dropout) : output).MoveToOuterDisposeScope();
    }
}
