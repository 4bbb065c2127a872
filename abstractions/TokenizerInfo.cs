using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>What a tokenizer is and what it produces.</summary>
/// <param name="Plugin">The plugin that built it.</param>
/// <param name="Preset">The preset it was built from.</param>
/// <param name="VocabularySize">V, the number of codebook entries.</param>
/// <param name="CodeDim">D, the dimension of a codebook entry.</param>
/// <param name="Layout">How the token sequence of one image maps onto grids.</param>
/// <param name="Image">The image shape it encodes and decodes.</param>
public sealed record TokenizerInfo(
    string Plugin, string Preset, int VocabularySize, int CodeDim, TokenLayout Layout, ImageShape Image)
{
    /// <summary>Throws unless <paramref name="images"/> is [B, C, H, W] of <see cref="Image"/>'s shape.</summary>
    /// <exception cref="ArgumentException">The shape found and the one accepted.</exception>
    public void CheckImages(Tensor images)
    {
        var s = Image;
        if (images.dim() != 4 || images.shape[1] != s.Channels || images.shape[2] != s.Height || images.shape[3] != s.Width)
            throw new ArgumentException(
                $"{Plugin}/{Preset} takes images [B, {s.Channels}, {s.Height}, {s.Width}], but was given [{string.Join(", ", images.shape)}].");
    }

    /// <summary>Throws unless <paramref name="tokens"/> is [B, L] with L of <see cref="Layout"/> (values are not read).</summary>
    /// <exception cref="ArgumentException">The shape found and the one accepted.</exception>
    public void CheckTokens(Tensor tokens)
    {
        int length = Layout.SequenceLength;
        if (tokens.dim() != 2 || tokens.shape[1] != length)
            throw new ArgumentException(
                $"{Plugin}/{Preset} takes tokens [B, {length}] (grids {Layout}), but was given [{string.Join(", ", tokens.shape)}].");
    }
}
