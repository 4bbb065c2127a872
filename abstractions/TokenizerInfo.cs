namespace IAR.Abstractions;

/// <summary>What a tokenizer is and what it produces.</summary>
/// <param name="Plugin">The plugin that built it.</param>
/// <param name="Preset">The preset it was built from.</param>
/// <param name="VocabularySize">V, the number of codebook entries.</param>
/// <param name="CodeDim">D, the dimension of a codebook entry.</param>
/// <param name="Layout">How the token sequence of one image maps onto grids.</param>
/// <param name="Image">The image shape it encodes and decodes.</param>
public sealed record TokenizerInfo(
    string Plugin, string Preset, int VocabularySize, int CodeDim, TokenLayout Layout, ImageShape Image);
