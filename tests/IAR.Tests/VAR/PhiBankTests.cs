using IAR.Plugins.VAR;

namespace IAR.Tests.VAR;

/// <summary>
/// The official scale → φ mapping. Expected values are what the official expression
/// (<c>np.argmin(np.abs(ticks - si/(SN-1)))</c> with numpy's linspace ticks) prints for the same arguments.
/// </summary>
public class PhiBankTests
{
    [Fact]
    public void Ticks_for_four_phis_are_numpy_linspace_bit_for_bit()
    {
        // The values np.linspace(1/3/4, 1 - 1/3/4, 4) printed by the fixture generator (var-vqvae case.json phi_ticks).
        Assert.Equal([0.08333333333333333, 0.36111111111111105, 0.6388888888888888, 0.9166666666666666], PhiBank.Ticks(4));
    }

    [Theory]
    [InlineData(10, new[] { 0, 0, 1, 1, 1, 2, 2, 3, 3, 3 })]   // the official 256 px model
    [InlineData(4, new[] { 0, 1, 2, 3 })]                       // the parity fixtures
    [InlineData(3, new[] { 0, 2, 3 })]                          // 0.5 is nearer tick 2 only through float64 rounding
    [InlineData(6, new[] { 0, 0, 1, 2, 3, 3 })]                 // VQVAE-S
    public void Four_shared_phis_are_spread_over_the_scales_as_official(int scales, int[] expected) =>
        Assert.Equal(expected, PhiBank.IndexPerScale(4, scales));

    [Fact]
    public void Other_phi_counts_use_half_step_ticks()
    {
        Assert.Equal([0.25, 0.75], PhiBank.Ticks(2));
        Assert.Equal([0.1, 0.30000000000000004, 0.5, 0.7000000000000001, 0.9], PhiBank.Ticks(5));
        Assert.Equal([0, 0, 1, 1], PhiBank.IndexPerScale(2, 4));
        Assert.Equal([0, 1, 2, 3, 4], PhiBank.IndexPerScale(5, 5));   // non-shared: one per scale
        Assert.Equal([0, 0, 0], PhiBank.IndexPerScale(1, 3));
    }
}
