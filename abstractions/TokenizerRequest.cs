namespace IAR.Abstractions;

/// <summary>What the host asks a tokenizer factory to build.</summary>
/// <param name="Preset">One of the factory's preset names.</param>
/// <param name="Options">Overrides of the preset's options by snake_case name (lists written <c>1,2,2</c>).</param>
/// <param name="Image">The shape of the images it will see (channels and size come from the data).</param>
public sealed record TokenizerRequest(string Preset, IReadOnlyDictionary<string, string> Options, ImageShape Image);
