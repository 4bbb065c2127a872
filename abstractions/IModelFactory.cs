namespace IAR.Abstractions;

/// <summary>Something that builds models from named presets.</summary>
public interface IModelFactory
{
    /// <summary>The model family, e.g. <c>VQ</c>, <c>GPT</c>.</summary>
    string Name { get; }

    string Description { get; }

    IReadOnlyList<ModelPreset> Presets { get; }
}
