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

    /// <summary><c>|actual − expected| ≤ atol + rtol·|expected|</c> elementwise (the parity fixtures' rule).</summary>
    public static void Close(Tensor expected, Tensor actual, double atol, double rtol, string? what = null)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what ?? "tensor"}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var e = expected.to(ScalarType.Float64);
        using var a = actual.to(ScalarType.Float64).cpu();
        using var diff = (a - e).abs();
        using var bound = e.abs() * rtol + atol;
        using var bad = diff.gt(bound);
        long failures = bad.sum().item<long>();
        if (failures > 0)
        {
            using var excess = diff - bound;
            double worst = diff.max().item<double>();
            throw new XunitException(
                $"{what ?? "tensor"}: {failures} of {expected.NumberOfElements} elements outside atol={atol}, rtol={rtol}; max |diff| = {worst:G4}");
        }
    }
}
