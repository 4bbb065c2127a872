using IAR.Host.Data;
using IAR.Host.Configuration;
using IAR.Host.Iar;
using System.ComponentModel;

namespace IAR.Host.Experiments;

/// <summary>
/// One experiment, as written in YAML (snake_case keys). <c>arms:</c> is not a property: each arm is an overlay of
/// this spec's iar/generator/training/sampling/evaluation sections, resolved by <see cref="ExperimentLoader"/>.
/// </summary>
public sealed record ExperimentSpec : ISpecSection
{
    [RequiredKey, Description("name of the experiment; run directories are runs/NNN-<name>")]
    public string Name { get; init; } = "";

    [Description("one line on what the experiment asks")]
    public string? Description { get; init; }

    [Description("random seed of data order, initialisation, sampling")]
    public int Seed { get; init; }

    [Description("repeat every arm with each of these seeds (empty = [seed])")]
    public IReadOnlyList<int> Seeds { get; init; } = [];

    [Description("auto | cpu | cuda | cuda:N")]
    public string Device { get; init; } = "auto";

    [Description("torch intra-op threads (0 = libtorch's default alone; cores / N for each of N local workers or ranks of a node)")]
    public int Threads { get; init; }

    [PathValue, Description("plugin folder; null = plugins/ beside the iar executable")]
    public string? Plugins { get; init; }

    public DataSpec Data { get; init; } = new();

    [RequiredKey]
    public TokenizerSpec Tokenizer { get; init; } = new();

    [RequiredKey]
    public GeneratorSpec Generator { get; init; } = new();

    [Description("how the generator is trained")]
    public TrainingSpec Training { get; init; } = new();

    public SamplingSpec Sampling { get; init; } = new();

    public EvaluationSpec Evaluation { get; init; } = new();

    public IarSpec Iar { get; init; } = new();

    /// <summary>The seeds every arm runs with.</summary>
    public IReadOnlyList<int> EffectiveSeeds => Seeds.Count > 0 ? Seeds : [Seed];

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(Name, "^[A-Za-z0-9][A-Za-z0-9._-]*$"))
            yield return ("name", $"name '{Name}' is invalid; letters, digits, '.', '_' and '-' are accepted (it names the run directory).");
        if (!System.Text.RegularExpressions.Regex.IsMatch(Device, "^(auto|cpu|cuda(:[0-9]+)?)$"))
            yield return ("device", $"device '{Device}' is invalid; auto, cpu, cuda or cuda:N is accepted.");
        if (Threads < 0) yield return ("threads", "threads must be ≥ 0 (0 = libtorch's default).");
        if (Seeds.Distinct().Count() != Seeds.Count) yield return ("seeds", "seeds must not repeat.");
        if (Data.Source == DataSource.LlamagenCodes && Tokenizer.Checkpoint is null)
            yield return ("tokenizer.checkpoint",
                "data.source llamagen-codes needs tokenizer.checkpoint, the weights of the tokenizer that extracted the codes (they are its indices).");
    }
}
