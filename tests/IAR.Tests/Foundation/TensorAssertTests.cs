using IAR.ContractTests;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace IAR.Tests.Foundation;

/// <summary>The comparisons every parity case and inherited contract test relies on must fail on a NaN or ±∞ output.</summary>
public class TensorAssertTests
{
    static Tensor Row(params double[] values) => tensor(values).to(ScalarType.Float32);

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void A_non_finite_output_fails_even_at_an_infinite_tolerance(double bad)
    {
        var e = Assert.Throws<XunitException>(() => TensorAssert.Close(Row(1, 2, 3), Row(1, bad, 3), double.PositiveInfinity, 1, "out"));
        Assert.Contains("1 in actual", e.Message);
    }

    [Fact]
    public void A_non_finite_expected_value_fails_unless_the_call_says_both_sides_hold_it()
    {
        var expected = Row(double.NegativeInfinity, 2, double.NaN);
        Assert.Throws<XunitException>(() => TensorAssert.Close(expected, expected.clone(), 0, 0));
        TensorAssert.Close(expected, expected.clone(), 0, 0, nonFinite: NonFinite.MustAgree);
        Assert.Throws<XunitException>(() => TensorAssert.Close(expected, Row(double.PositiveInfinity, 2, double.NaN), 0, 0, nonFinite: NonFinite.MustAgree));
        Assert.Throws<XunitException>(() => TensorAssert.Close(expected, Row(double.NegativeInfinity, 2, 0), 1e9, 1e9, nonFinite: NonFinite.MustAgree));
        Assert.Throws<XunitException>(() => TensorAssert.Close(expected, Row(double.NegativeInfinity, double.NaN, double.NaN), 1e9, 1e9, nonFinite: NonFinite.MustAgree));
    }

    [Fact]
    public void Finite_values_pass_within_the_bound_and_fail_outside_it()
    {
        TensorAssert.Close(Row(1, 100), Row(1.5, 101), atol: 0.5, rtol: 0.005);
        Assert.Throws<XunitException>(() => TensorAssert.Close(Row(1, 100), Row(1.5, 101.01), atol: 0.5, rtol: 0.005));
    }

    [Theory]
    [InlineData(double.NaN, double.NaN)]
    [InlineData(1.0, double.NaN)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity)]
    [InlineData(1.0, 1.1)]
    public void Scalars_fail_on_nan_infinity_and_distance(double expected, double actual) =>
        Assert.Throws<XunitException>(() => TensorAssert.Close(expected, actual, 0.01, 0.01));

    [Fact]
    public void A_parity_case_whose_output_is_nan_fails()
    {
        // The comparison ParityTests makes for every float tensor of a case: a NaN logit must not pass.
        var expected = Row(0.25, -1, 3);
        var nanOutput = Row(0.25, double.NaN, 3);
        var e = Assert.Throws<XunitException>(() => TensorAssert.Close(expected, nanOutput, 1e-4, 1e-4, "logits"));
        Assert.StartsWith("logits: 1 of 3 elements outside", e.Message);
    }
}
