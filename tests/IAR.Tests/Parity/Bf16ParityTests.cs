using IAR.Tests.Support;
using Xunit.Sdk;

namespace IAR.Tests.Parity;

/// <summary>
/// The GPT and VAR forward cases with the generator in <c>training.precision: bf16</c>: the handler runs inside a
/// bf16 Autocast region (bf16 matmuls and attention, fp32 weights, norms, residual stream and losses) and its float
/// outputs must match the fp32 reference within atol = rtol = <see cref="Tolerance"/>. bf16 keeps 8 significant bits
/// (relative rounding 2⁻⁹ ≈ 0.002 per operation), and the cases' logits pass through 2–3 blocks of such matmuls.
/// Not compared: exact index comparisons and whatever depends on sampled indices (VAR's scales ≥ 1 and its image),
/// since the recorded top-1/top-2 logit margins (down to 0.0018 in var-forward) lie below bf16's resolution, so a
/// correct bf16 model may pick the other index of a near tie; VAR's scale-0 guided logits precede any sampling.
/// </summary>
public class Bf16ParityTests
{
    /// <summary>atol and rtol of every compared tensor (the fp32 cases use 1e-4).</summary>
    public const double Tolerance = 0.03;

    /// <summary>Which recorded tensors a bf16 run compares, and at which tolerance.</summary>
    public sealed record Comparison(double Atol, double Rtol, Func<string, bool> Compared)
    {
        public bool Compares(string tensor, bool exact) => !exact && Compared(tensor);
    }

    static readonly IReadOnlyDictionary<string, Comparison> Kinds = new Dictionary<string, Comparison>(StringComparer.Ordinal)
    {
        ["llamagen-gpt-forward"] = new(Tolerance, Tolerance, _ => true),
        ["var-forward"] = new(Tolerance, Tolerance, name => name is "logits" or "loss" or "debug_infer_logits_s0"),
    };

    public static IEnumerable<object[]> Cases() =>
        ParityCase.Folders().Where(f => Kinds.ContainsKey(ParityCase.Load(f).Kind)).Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_the_reference_implementation_in_bf16(string name)
    {
        var c = ParityCase.Load(Path.Combine(RepoPaths.ParityFixtures, name));
        var comparison = Kinds[c.Kind];
        var failures = ParityTests.Mismatches(c, comparison);
        if (failures.Count > 0)
            throw new XunitException($"{c.Name} ({c.Kind}, bf16, device {ParityCase.Device}):\n  " + string.Join("\n  ", failures));
        // The same run must miss fp32's tolerance somewhere, or the region computed nothing in bf16.
        Assert.NotEmpty(ParityTests.Mismatches(c, comparison with { Atol = 1e-5, Rtol = 1e-5 }));
    }

    [Fact]
    public void Every_generator_forward_kind_has_a_case()
    {
        var kinds = ParityCase.Folders().Select(f => ParityCase.Load(f).Kind).ToHashSet();
        Assert.All(Kinds.Keys, kind => Assert.Contains(kind, kinds));
    }
}
