using IAR.Host.Configuration;
using IAR.Host.Experiments;
using YamlDotNet.RepresentationModel;

namespace IAR.Host.Training;

/// <summary>
/// The configuration that identifies a training job, as YAML text: the resolved sections that shape its trajectory
/// (not evaluation or sampling, which only observe it). Checkpoints record it and refuse to resume under another.
/// </summary>
public static class TrainingConfigText
{
    /// <param name="values">Key and value pairs: spec sections (records) or scalars (seed, arm name).</param>
    public static string Of(params (string Key, object Value)[] values)
    {
        var root = new YamlMappingNode();
        foreach (var (key, value) in values)
            root.Add(key, value is ISpecSection section ? SpecYamlWriter.ToNode(section) : new YamlScalarNode(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)));
        var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    /// <summary>
    /// The tokenizer's job: data and tokenizer sections, the experiment seed, and the training images' fingerprint
    /// (<c>data.path: null</c> may resolve to the full set on one machine and the bundled subset on another).
    /// </summary>
    public static string ForTokenizer(ExperimentSpec spec, string dataFingerprint) =>
        Of(("data", spec.Data), ("tokenizer", spec.Tokenizer), ("seed", spec.Seed), ("data_fingerprint", dataFingerprint));

    /// <summary>A generator job: data, tokenizer, the arm's generator, training and iar sections, its name and seed.</summary>
    public static string ForGenerator(ExperimentSpec armSpec, string arm, int seed) =>
        Of(("data", armSpec.Data), ("tokenizer", armSpec.Tokenizer), ("generator", armSpec.Generator),
            ("training", armSpec.Training), ("iar", armSpec.Iar), ("arm", arm), ("seed", seed));
}
