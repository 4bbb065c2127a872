using System.Text.Json;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity;

/// <summary>
/// One parity case folder (see tests/fixtures/parity/README.md): case.json (kind, compare tolerances, notes),
/// config.json (official constructor arguments), inputs/expected safetensors and, for models, weights.
/// </summary>
public sealed class ParityCase
{
    ParityCase(string dir)
    {
        Dir = dir;
        Case = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "case.json"))).RootElement.Clone();
        Config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))).RootElement.Clone();
        Kind = Case.GetProperty("kind").GetString() ?? throw new InvalidDataException($"{dir}/case.json has no kind.");
        Inputs = SafeTensorsFile.Open(Path.Combine(dir, "inputs.safetensors"));
        Expected = SafeTensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
    }

    public string Dir { get; }

    public string Name => Path.GetFileName(Dir);

    public string Kind { get; }

    /// <summary>case.json.</summary>
    public JsonElement Case { get; }

    /// <summary>config.json: the official constructor arguments.</summary>
    public JsonElement Config { get; }

    public SafeTensorsFile Inputs { get; }

    public SafeTensorsFile Expected { get; }

    /// <summary>Device the handlers run on: env IAR_PARITY_DEVICE (e.g. <c>cuda</c>), default CPU.</summary>
    public static Device Device => Environment.GetEnvironmentVariable("IAR_PARITY_DEVICE") is { Length: > 0 } d ? torch.device(d) : CPU;

    /// <summary>Multiplier on every float tolerance: env IAR_PARITY_TOLERANCE_SCALE (relaxed on GPUs), default 1.</summary>
    public static double ToleranceScale =>
        double.TryParse(Environment.GetEnvironmentVariable("IAR_PARITY_TOLERANCE_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 1.0;

    /// <summary>A model file of the case (weights.safetensors, vae.safetensors).</summary>
    public string File_(string name) => Path.Combine(Dir, name);

    public Tensor Input(string name) => Inputs.Load(name).to(Device);

    /// <summary>The tensors listed in case.json's compare, with their tolerance.</summary>
    public IReadOnlyList<(string Name, double Atol, double Rtol, bool Exact)> Comparisons =>
        Case.GetProperty("compare").EnumerateObject().Select(p => (
            p.Name,
            p.Value.TryGetProperty("atol", out var a) ? a.GetDouble() : 0,
            p.Value.TryGetProperty("rtol", out var r) ? r.GetDouble() : 0,
            p.Value.TryGetProperty("exact", out var e) && e.GetBoolean())).ToArray();

    /// <summary>
    /// A scalar result shaped like the stored expected tensor: the first fixtures store losses as [1] although their
    /// README and case.json describe them as []; make_cases.py stores [].
    /// </summary>
    public Tensor AsStored(string name, Tensor scalar) => scalar.NumberOfElements == 1 ? scalar.reshape(Expected.Entry(name).Shape) : scalar;

    /// <summary>
    /// The official call recorded for <paramref name="output"/> in case.json's <c>calls</c>, found by its
    /// <paramref name="function"/> name; the case fails naming both when it has none.
    /// </summary>
    public OfficialCall Call(string output, string function)
    {
        if (!Case.TryGetProperty("calls", out var calls) || !calls.TryGetProperty(output, out var text) || text.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{Dir}/case.json has no calls.{output}; the {Kind} handler reads the arguments of {function}(…) from it.");
        try
        {
            return OfficialCall.Find(text.GetString()!, function);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{Dir}/case.json calls.{output}: {e.Message}");
        }
    }

    /// <summary>
    /// The call of <paramref name="function"/> recorded for <paramref name="output"/> (e.g. the <c>manual_seed</c> before a
    /// sampled <c>generate</c>), or null when the recorded text has none.
    /// </summary>
    public OfficialCall? TryCall(string output, string function) =>
        Case.TryGetProperty("calls", out var calls) && calls.TryGetProperty(output, out var text) && text.ValueKind == JsonValueKind.String
        && text.GetString()!.Contains(function + "(", StringComparison.Ordinal)
            ? Call(output, function)
            : null;

    /// <summary>The output names under case.json's <c>calls</c> that start with <paramref name="prefix"/>.</summary>
    public IReadOnlyList<string> CallsStartingWith(string prefix) =>
        Case.TryGetProperty("calls", out var calls)
            ? calls.EnumerateObject().Select(p => p.Name).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToArray()
            : [];

    /// <summary>Every case folder under the fixture root (env IAR_PARITY_DIR or tests/fixtures/parity).</summary>
    public static IReadOnlyList<string> Folders()
    {
        var root = RepoPaths.ParityFixtures;
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "case.json")))
            .Order(StringComparer.Ordinal).ToArray();
    }

    public static ParityCase Load(string dir) => new(dir);
}
