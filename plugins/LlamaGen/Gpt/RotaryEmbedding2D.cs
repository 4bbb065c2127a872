using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.LlamaGen.Gpt;

/// <summary>
/// LlamaGen's 2-D rotary embedding. Position p = classTokens + y·W + x rotates the adjacent pairs
/// (x[2i], x[2i+1]) of every head: pairs 0 … hd/4−1 by y·f_j, pairs hd/4 … hd/2−1 by x·f_j, f_j = base^(−2j/(hd/2)).
/// The class-token rows are zero (not the identity rotation), exactly as officially: the class token's q and k vanish.
/// Not a module: the table is derived from the config and is not part of the checkpoint.
/// </summary>
public sealed class RotaryEmbedding2D
{
    readonly Tensor rotations;   // complex64 [classTokens + H·W, hd/2]
    Tensor? onDevice;

    public RotaryEmbedding2D(GridSize grid, int headDim, double ropeBase, int classTokens)
    {
        using var scope = torch.NewDisposeScope();
        int half = headDim / 2, quarter = half / 2;
        var exponents = torch.arange(0, half, 2, ScalarType.Float32).narrow(0, 0, quarter) / half;   // [hd/4]
        var frequencies = torch.tensor(ropeBase, ScalarType.Float32).pow(exponents).reciprocal();      // [hd/4]
        var fy = torch.outer(torch.arange(grid.Height, ScalarType.Float32), frequencies);             // [H, hd/4]
        var fx = torch.outer(torch.arange(grid.Width, ScalarType.Float32), frequencies);              // [W, hd/4]
        var angles = torch.cat([
            fy.unsqueeze(1).expand(grid.Height, grid.Width, quarter),
            fx.unsqueeze(0).expand(grid.Height, grid.Width, quarter)], -1).flatten(0, 1);                // [H·W, hd/2]
        var cosSin = torch.stack([angles.cos(), angles.sin()], -1);                                    // [H·W, hd/2, 2]
        var table = torch.cat([torch.zeros(classTokens, half, 2), cosSin]);                           // [T + H·W, hd/2, 2]
        Table = table.DetachFromDisposeScope();
        rotations = torch.view_as_complex(Table).DetachFromDisposeScope();
    }

    /// <summary>float [classTokens + H·W, hd/2, 2]: (cos, sin) per position and pair, the official <c>freqs_cis</c>.</summary>
    public Tensor Table { get; }

    public long Positions => Table.shape[0];

    /// <summary>
    /// Rotates x [B, S, heads, hd] as positions start … start+S−1; returns a new tensor of x's type. The rotation is
    /// complex float32 arithmetic (there is no complex bf16), as the official <c>x.float()</c> … <c>type_as(x)</c>.
    /// </summary>
    public Tensor Apply(Tensor x, int start)
    {
        if (x.dtype != ScalarType.Float32)
        {
            using var scope = torch.NewDisposeScope();
            return Apply(x.to(ScalarType.Float32), start).to(x.dtype).MoveToOuterDisposeScope();
        }
        long batch = x.shape[0], length = x.shape[1], heads = x.shape[2], pairs = x.shape[3] / 2;
        if (start + length > Positions)
            throw new ArgumentException($"Positions {start}…{start + length - 1} lie beyond the {Positions} positions of the rotary table (class token + token grid).");
        var rotation = RotationsOn(x.device).narrow(0, start, length).view(1, length, 1, pairs);        // [1, S, 1, hd/2]
        var pairsView = torch.view_as_complex(x.view(batch, length, heads, pairs, 2));                  // [B, S, heads, hd/2]
        return torch.view_as_real(pairsView * rotation).flatten(3);                                   // [B, S, heads, hd]
    }

    Tensor RotationsOn(Device device)
    {
        if (Same(rotations.device, device)) return rotations;
        if (onDevice is null || !Same(onDevice.device, device)) onDevice = rotations.to(device).DetachFromDisposeScope();
        return onDevice;
    }

    static bool Same(Device a, Device b) => a.type == b.type && a.index == b.index;
}
