using System.Text.Json;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Evaluation;

/// <summary>tests/fixtures/evaluation/metrics-numpy.json: metric values computed with numpy/scipy (see its README).</summary>
static class NumpyFixture
{
    static readonly Lazy<JsonElement> Root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "fixtures", "evaluation", "metrics-numpy.json"))).RootElement.Clone());

    public static JsonElement Case(string name) =>
        Root.Value.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static JsonElement Section(string name) => Root.Value.GetProperty(name);

    /// <summary>A JSON array (of numbers or of arrays of numbers) as a float64 tensor.</summary>
    public static Tensor Tensor(JsonElement array)
    {
        if (array[0].ValueKind == JsonValueKind.Array)
        {
            var rows = array.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            return torch.tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Float64);
        }
        return torch.tensor(array.EnumerateArray().Select(v => v.GetDouble()).ToArray(), ScalarType.Float64);
    }
}
