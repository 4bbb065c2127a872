namespace IAR.Abstractions;

/// <summary>What the host asks a generator factory to build.</summary>
/// <param name="Preset">One of the factory's preset names.</param>
/// <param name="Options">Overrides of the preset's options by snake_case name (lists written <c>1,2,2</c>).</param>
/// <param name="Tokenizer">
/// The tokenizer it generates for (possibly an IAR decorator): vocabulary and layout come from it, never constants.
/// </param>
/// <param name="NumClasses">Number of class labels in the data.</param>
public sealed record GeneratorRequest(
    string Preset, IReadOnlyDictionary<string, string> Options, ITokenizer Tokenizer, int NumClasses);
