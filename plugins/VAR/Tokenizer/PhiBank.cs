using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Plugins.VAR;

/// <summary>
/// The φ convolutions shared across scales (official <c>quant_resi</c>), in the official sharing modes and key layouts:
/// <list type="bullet">
/// <item>share_quant_resi = 0: one φ per scale (or default_qresi_counts), keys <c>quant_resi.{k}</c>;</item>
/// <item>share_quant_resi = 1: one φ for every scale, keys <c>quant_resi.qresi</c>;</item>
/// <item>share_quant_resi = K ≥ 2: K φ, keys <c>quant_resi.qresi_ls.{k}</c> (official default, K = 4).</item>
/// </list>
/// Scale si of SN uses φ number argmin_k |tick_k − si/(SN−1)| over fixed ticks (<see cref="PhiIndex"/>).
/// With |quant_resi| ≤ 1e-6 every φ is the identity and has no keys.
/// </summary>
internal sealed class PhiBank : nn.Module
{
    readonly IReadOnlyList<nn.Module<Tensor, Tensor>> phis;
    readonly double[] ticks;

    public PhiBank(int channels, double quantResi, int shareQuantResi, int defaultQresiCounts, int scaleCount) : base("quant_resi")
    {
        nn.Module<Tensor, Tensor> Make() => Math.Abs(quantResi) > 1e-6 ? new Phi(channels, quantResi) : nn.Identity();
        switch (shareQuantResi)
        {
            case 0:
                phis = Enumerable.Range(0, defaultQresiCounts > 0 ? defaultQresiCounts : scaleCount).Select(_ => Make()).ToArray();
                for (int k = 0; k < phis.Count; k++) register_module(k.ToString(System.Globalization.CultureInfo.InvariantCulture), phis[k]);
                break;
            case 1:
                phis = [Make()];
                register_module("qresi", phis[0]);
                break;
            default:
                phis = Enumerable.Range(0, shareQuantResi).Select(_ => Make()).ToArray();
                register_module("qresi_ls", nn.ModuleList(phis.ToArray()));
                break;
        }
        ticks = Ticks(phis.Count);
    }

    /// <summary>The φ used at scale <paramref name="scale"/> of <paramref name="scaleCount"/>.</summary>
    public nn.Module<Tensor, Tensor> ForScale(int scale, int scaleCount) => phis[PhiIndex(ticks, scale, scaleCount)];

    /// <summary>Which of <paramref name="phiCount"/> φ every one of <paramref name="scaleCount"/> scales uses.</summary>
    public static int[] IndexPerScale(int phiCount, int scaleCount)
    {
        var t = Ticks(phiCount);
        return Enumerable.Range(0, scaleCount).Select(si => PhiIndex(t, si, scaleCount)).ToArray();
    }

    /// <summary>
    /// The official fixed tick positions in float64, reproducing <c>np.linspace</c> bit for bit:
    /// linspace(1/3/K, 1 − 1/3/K, K) for K = 4, linspace(1/2/K, 1 − 1/2/K, K) otherwise.
    /// </summary>
    public static double[] Ticks(int phiCount)
    {
        double k = phiCount;
        double start = phiCount == 4 ? 1.0 / 3 / k : 1.0 / 2 / k;
        double stop = 1 - start;
        var result = new double[phiCount];
        if (phiCount == 1)
        {
            result[0] = start;
            return result;
        }
        // numpy: step = (stop − start)/(num − 1); y_i = i·step + start; the last element is set to stop.
        double step = (stop - start) / (phiCount - 1);
        for (int i = 0; i < phiCount; i++) result[i] = i * step + start;
        result[^1] = stop;
        return result;
    }

    /// <summary>argmin over ticks of |tick − si/(SN−1)|, the first on ties (as np.argmin). Near-ties are real: for
    /// 3 scales and K = 4, 0.5 is closer to tick 2 only by float64 rounding, so scale 1 uses φ 2.</summary>
    static int PhiIndex(double[] ticks, int scale, int scaleCount)
    {
        double at = (double)scale / (scaleCount - 1);
        int best = 0;
        for (int i = 1; i < ticks.Length; i++)
            if (Math.Abs(ticks[i] - at) < Math.Abs(ticks[best] - at)) best = i;
        return best;
    }
}
