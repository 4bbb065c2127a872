namespace IAR.Abstractions;

/// <summary>What a generator is and what it predicts.</summary>
/// <param name="Plugin">The plugin that built it.</param>
/// <param name="Preset">The preset it was built from.</param>
/// <param name="Kind">Next-token or next-scale; the IAR decorators do not depend on it.</param>
/// <param name="VocabularySize">V, the size of the output distribution (the tokenizer's codebook size).</param>
/// <param name="NumClasses">Number of class labels; labels are in [0, NumClasses).</param>
/// <param name="Layout">The token layout of one image (the tokenizer's).</param>
/// <param name="SupportsGuidance">Whether it has a null class, so classifier-free guidance can be used.</param>
public sealed record GeneratorInfo(
    string Plugin, string Preset, GeneratorKind Kind, int VocabularySize, int NumClasses, TokenLayout Layout,
    bool SupportsGuidance);
