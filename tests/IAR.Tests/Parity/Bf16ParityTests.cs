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
    public void The_fixture_folder_has_a_case_to_compare()
    {
        var kinds = ParityCase.Folders().Select(f => ParityCase.Load(f).Kind).ToHashSet();
        var problem = MissingCases(kinds, Environment.GetEnvironmentVariable("IAR_PARITY_DIR") is { Length: > 0 });
        Assert.True(problem is null, $"{RepoPaths.ParityFixtures}: {problem}");
    }

    /// <summary>
    /// Why a fixture folder holding cases of <paramref name="kinds"/> cannot stand for the bf16 suite, or null. The
    /// repository's own folder must hold every generator forward kind; a folder given by IAR_PARITY_DIR (one model's
    /// cases on a device, say) at least one of them, so that the suite never passes by comparing nothing.
    /// </summary>
    public static string? MissingCases(IReadOnlySet<string> kinds, bool givenFolder)
    {
        var present = Kinds.Keys.Where(kinds.Contains).ToArray();
        var missing = Kinds.Keys.Except(present).ToArray();
        if (present.Length == 0)
            return $"no case of a generator forward kind ({string.Join(", ", Kinds.Keys)}), so the bf16 suite would compare nothing";
        return givenFolder || missing.Length == 0 ? null : $"the repository's fixtures lack a case of {string.Join(", ", missing)}";
    }

    [Theory]
    [InlineData("llamagen-gpt-forward", true, true)]
    [InlineData("var-forward", true, true)]
    [InlineData("llamagen-gpt-forward", false, false)]
    [InlineData("llamagen-vq", true, false)]
    [InlineData("", true, false)]
    public void A_given_folder_of_one_kind_is_accepted_an_empty_one_never(string kind, bool givenFolder, bool accepted)
    {
        var kinds = kind.Length == 0 ? new HashSet<string>() : new HashSet<string> { kind };
        Assert.Equal(accepted, MissingCases(kinds, givenFolder) is null);
        Assert.Null(MissingCases(Kinds.Keys.ToHashSet(), givenFolder: false));
    }
}
