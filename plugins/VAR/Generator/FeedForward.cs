using IAR.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>The block MLP (official <c>basic_var.FFN</c>): fc1 → tanh-approximate GELU → fc2 → dropout.</summary>
internal sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    readonly Linear fc1;
    readonly Linear fc2;
    readonly nn.Module<Tensor, Tensor> drop;

    public FeedForward(int features, int hidden, double dropRate) : base("FFN")
    {
        fc1 = nn.Linear(features, hidden);
        fc2 = nn.Linear(hidden, features);
        drop = dropRate > 0 ? nn.Dropout(dropRate) : nn.Identity();
        RegisterComponents();
    }

    public Linear Fc2 => fc2;

    public override Tensor forward(Tensor x)   // [B, L, C]
    {
        using var hidden = Autocast.Linear(fc1, x);
        using var activated = nn.functional.gelu(hidden, GELU.Approximate.tanh);
        using var output = Autocast.Linear(fc2, activated);
        return drop.forward(output).alias();
    }
}
