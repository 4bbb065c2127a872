using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Abstractions;

/// <summary>
/// An image tokenizer: a VQ model that maps images to codebook indices and back. Indices are the only thing the
/// IAR decorators change, so every method that takes or returns indices uses this tokenizer's own numbering.
/// </summary>
public interface ITokenizer
{
    TokenizerInfo Info { get; }

    /// <summary>The network; its state dict is the checkpoint (official key names where the plugin has them).</summary>
    nn.Module Module { get; }

    /// <summary>[V, D], a detached copy of the codebook in this tokenizer's index order.</summary>
    Tensor Codebook { get; }

    /// <summary>The codebook-indexed tensors of <see cref="Module"/> (the codebook rows, usage buffers, ...).</summary>
    IReadOnlyList<VocabularyParameter> VocabularyParameters { get; }

    /// <summary>The plugin's default training loss terms with their official weights.</summary>
    IReadOnlyList<ITokenizerLossTerm> TrainingLossTerms { get; }

    /// <summary>float [B, C, H, W] in [-1, 1] → int64 [B, L] (L = Info.Layout.SequenceLength).</summary>
    Tensor Encode(Tensor images);

    /// <summary>int64 [B, L] → float [B, C, H, W], clamped to [-1, 1].</summary>
    Tensor Decode(Tensor tokens);

    /// <summary>int64 [...] → float [..., D]: the code vectors the decoder consumes for those indices.</summary>
    Tensor LookupCodes(Tensor tokens);

    /// <summary>The training forward: reconstruction, chosen indices and the quantizer's own losses.</summary>
    TokenizerOutput Reconstruct(Tensor images);
}

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

/// <summary>The training forward of a tokenizer.</summary>
/// <param name="Reconstruction">[B, C, H, W], the decoded images (not clamped, so gradients flow).</param>
/// <param name="Tokens">int64 [B, L], the indices chosen by the quantizer.</param>
/// <param name="AuxiliaryLosses">
/// Unweighted scalar losses of the quantizer by name (e.g. <c>codebook</c>, <c>commitment</c>, <c>entropy</c>);
/// the tokenizer's <see cref="ITokenizer.TrainingLossTerms"/> weight them.
/// </param>
public sealed record TokenizerOutput(Tensor Reconstruction, Tensor Tokens, IReadOnlyDictionary<string, Tensor> AuxiliaryLosses);

/// <summary>One weighted term of a tokenizer's training loss; the trainer logs every term separately.</summary>
public interface ITokenizerLossTerm
{
    /// <summary>Short name used in logs and metrics, e.g. <c>reconstruction_l2</c>.</summary>
    string Name { get; }

    double Weight { get; }

    /// <summary>The unweighted scalar value of the term.</summary>
    /// <param name="images">[B, C, H, W], the input images in [-1, 1].</param>
    /// <param name="output">The tokenizer's training forward on those images.</param>
    Tensor Compute(Tensor images, TokenizerOutput output);
}

/// <summary>What the host asks a tokenizer factory to build.</summary>
/// <param name="Preset">One of the factory's preset names.</param>
/// <param name="Options">Overrides of the preset's options by snake_case name (lists written <c>1,2,2</c>).</param>
/// <param name="Image">The shape of the images it will see (channels and size come from the data).</param>
public sealed record TokenizerRequest(string Preset, IReadOnlyDictionary<string, string> Options, ImageShape Image);

/// <summary>Builds tokenizers (with fresh weights; the host loads checkpoints into <see cref="ITokenizer.Module"/>).</summary>
public interface ITokenizerFactory : IModelFactory
{
    /// <exception cref="ConfigurationException">Unknown preset or option, or an image shape it cannot handle.</exception>
    ITokenizer Create(TokenizerRequest request);
}

/// <summary>
/// A tokenizer that wraps another one (e.g. IAR's rearranged tokenizer). A generator that needs its tokenizer's
/// concrete type for index-free work (VAR builds its continuous input from code vectors) finds it with
/// <see cref="TokenizerExtensions.Unwrap{T}"/>, and keeps using the decorator for everything index-based.
/// </summary>
public interface ITokenizerDecorator : ITokenizer
{
    ITokenizer Inner { get; }
}

public static class TokenizerExtensions
{
    /// <summary>The first tokenizer of type <typeparamref name="T"/> in the decorator chain, starting here.</summary>
    /// <exception cref="InvalidOperationException">No tokenizer in the chain is a <typeparamref name="T"/>.</exception>
    public static T Unwrap<T>(this ITokenizer tokenizer) where T : class
    {
        for (ITokenizer? t = tokenizer; t is not null; t = (t as ITokenizerDecorator)?.Inner)
            if (t is T found) return found;
        throw new InvalidOperationException(
            $"This generator needs a {typeof(T).Name} tokenizer, but was given {tokenizer.Info.Plugin}/{tokenizer.Info.Preset}.");
    }
}
