using Xunit;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace IAR.ContractTests;

/// <summary>
/// Whole-tensor assertions. (TorchSharp's <c>Tensor.equal</c> is elementwise, unlike PyTorch's <c>torch.equal</c>.)
/// </summary>
public static class TensorAssert
{
    /// <summary>Same shape, same dtype, every element equal.</summary>
    public static void Identical(Tensor expected, Tensor actual, string? what = null)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what ?? "tensor"}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        Assert.True(expected.dtype == actual.dtype, $"{what ?? "tensor"}: dtype {actual.dtype}, expected {expected.dtype}");
        if (!AreIdentical(expected, actual))
        {
            using var differ = expected.ne(actual);
            throw new XunitException($"{what ?? "tensor"}: {differ.sum().item<long>()} of {expected.NumberOfElements} elements differ");
        }
    }

    /// <summary>True when shapes and all elements are equal.</summary>
    public static bool AreIdentical(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    /// <summary>
    /// <c>|actual − expected| ≤ atol + rtol·|expected|</c> elementwise (the parity fixtures' rule), and every element
    /// finite on both sides: a NaN or ±∞ fails (a NaN difference is greater than nothing, so a test of
    /// <c>diff &gt; bound</c> alone would pass it). Where the expected tensor itself holds non-finite values on purpose
    /// (filtered logits are −∞), the caller says so with <paramref name="nonFinite"/> = <see cref="NonFinite.MustAgree"/>.
    /// </summary>
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string? what = null,
        NonFinite nonFinite = NonFinite.Fail)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what ?? "tensor"}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64).cpu();
        var a = actual.to(ScalarType.Float64).cpu();
        var diff = (a - e).abs();
        var bound = e.abs() * rtol + atol;
        // Written as "not within" so that a NaN difference counts as outside.
        var bad = diff.le(bound).logical_not().logical_or(e.isfinite().logical_and(a.isfinite()).logical_not());
        if (nonFinite == NonFinite.MustAgree)
        {
            var agree = a.isnan().logical_and(e.isnan()).logical_or(e.isinf().logical_and(a.eq(e)));   // NaN↔NaN, +∞↔+∞, −∞↔−∞
            bad = bad.logical_and(agree.logical_not());
        }
        long failures = bad.sum().item<long>();
        if (failures > 0)
        {
            long nanOrInf = a.isfinite().logical_not().sum().item<long>(), expectedNanOrInf = e.isfinite().logical_not().sum().item<long>();
            var finite = diff.masked_select(diff.isfinite());
            string worst = finite.NumberOfElements > 0 ? finite.max().item<double>().ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "n/a";
            throw new XunitException(
                $"{what ?? "tensor"}: {failures} of {expected.NumberOfElements} elements outside atol={atol}, rtol={rtol}; max finite |diff| = {worst}; " +
                $"non-finite (NaN/±∞) elements: {nanOrInf} in actual, {expectedNanOrInf} in expected" +
                (nonFinite == NonFinite.Fail ? "" : " (compared with NonFinite.MustAgree: they must sit at the same places with the same value)"));
        }
    }

    /// <summary>
    /// A finite <paramref name="actual"/> within <c>atol + rtol·|expected|</c> of a finite <paramref name="expected"/>;
    /// NaN and ±∞ on either side fail (xunit's <c>Assert.Equal(double, double, precision)</c> passes NaN against NaN).
    /// </summary>
    public static void Close(double expected, double actual, double atol, double rtol, string? what = null)
    {
        if (!(double.IsFinite(expected) && double.IsFinite(actual) && Math.Abs(actual - expected) <= atol + rtol * Math.Abs(expected)))
            throw new XunitException($"{what ?? "value"}: {actual:R}, expected {expected:R} within atol={atol}, rtol={rtol} (both finite)");
    }
}

/// <summary>What <see cref="TensorAssert.Close(Tensor, Tensor, double, double, string?, NonFinite)"/> makes of NaN and ±∞.</summary>
public enum NonFinite
{
    /// <summary>Any NaN or ±∞, on either side, fails.</summary>
    Fail,

    /// <summary>Non-finite values are expected: they must be at the same places with the same value (NaN with NaN).</summary>
    MustAgree,
}
