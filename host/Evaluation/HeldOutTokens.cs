using static TorchSharp.torch;

namespace IAR.Host.Evaluation;

/// <summary>The held-out split in token form: int64 [N, L] indices (in the generator's numbering) and int64 [N] labels.</summary>
public sealed record HeldOutTokens(Tensor Tokens, Tensor Labels)
{
    public long Count => Tokens.shape[0];
}
