using IAR.Host.Training;
using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Tests.LlamaGen;
using IAR.Tests.VAR;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// <c>training.precision: bf16</c>: what runs in bf16 and what stays fp32 (Autocast regions, the
/// <see cref="MixedPrecisionGenerator"/>), and that fp32 changes nothing.
/// </summary>
public class MixedPrecisionTests
{
    static TokenBatch Batch(IGenerator g, int batch = 4) => new(
        ContractSeeds.Tokens(batch, g.Info.Layout.SequenceLength, g.Info.VocabularySize, 3),
        ContractSeeds.Labels(batch, g.Info.NumClasses));

    [Fact]
    public void Fp32_wraps_nothing_and_a_linear_outside_a_region_is_the_plain_call()
    {
        var g = LlamaGenTestModels.Generator();
        Assert.Same(g, MixedPrecisionGenerator.Wrap(g, Precision.Fp32));
        using var linear = nn.Linear(8, 4);
        using var x = torch.randn(3, 8);
        using (Autocast.Enter(Precision.Fp32))
            TensorAssert.Identical(linear.forward(x), Autocast.Linear(linear, x), "linear");
        Assert.Null(Autocast.ComputeType);
    }

    [Fact]
    public void A_bf16_linear_computes_in_bf16_and_returns_fp32_gradients_close_to_fp32_ones()
    {
        torch.manual_seed(0);
        using var linear = nn.Linear(64, 32);
        using var x = torch.randn(16, 64);
        var y32 = linear.forward(x);
        y32.square().sum().backward();
        var grad32 = linear.weight!.grad!.clone();
        linear.zero_grad();
        Tensor y16;
        using (Autocast.Enter(Precision.Bf16))
        {
            Assert.Equal(ScalarType.BFloat16, Autocast.ComputeType);
            y16 = Autocast.Linear(linear, x);
        }
        Assert.Null(Autocast.ComputeType);
        Assert.Equal(ScalarType.BFloat16, y16.dtype);
        Autocast.Float(y16).square().sum().backward();
        Assert.Equal(ScalarType.Float32, linear.weight!.grad!.dtype);
        Assert.False(y32.equal(y16.to(ScalarType.Float32)).all().item<bool>(), "bf16 rounding must show: the region did not cast");
        TensorAssert.Close(y32.detach(), y16.detach(), 0.05, 0.02, "output");
        TensorAssert.Close(grad32, linear.weight.grad, 0.5, 0.03, "weight gradient");
    }

    [Fact]
    public void A_split_weight_linear_is_exact_in_the_weight_and_back_propagates_as_the_plain_bf16_linear()
    {
        // Numbers chosen so that every product and sum is exact in bf16: x in {−1, 0, 1}; the weight's high part a
        // multiple of 2⁻⁴ with magnitude in [1/2, 1], its low part of the same sign a multiple of 2⁻¹² below half of
        // bf16's step there (2⁻⁹), so bf16(W) = high. The plain bf16 linear is then exactly x·highᵀ, and a split
        // weight exactly the float32 product x·Wᵀ.
        var random = new Random(5);
        float[] Values(int n, Func<float> draw) => Enumerable.Range(0, n).Select(_ => draw()).ToArray();
        using var x = torch.tensor(Values(6 * 8, () => random.Next(-1, 2)), [6, 8]);
        using var sign = torch.tensor(Values(4 * 8, () => random.Next(2) * 2 - 1), [4, 8]);
        using var high = sign * torch.tensor(Values(4 * 8, () => random.Next(8, 17) / 16f), [4, 8]);
        using var low = sign * torch.tensor(Values(4 * 8, () => random.Next(1, 8) / 4096f), [4, 8]);
        using var linear = nn.Linear(8, 4, hasBias: false);
        using (torch.no_grad()) linear.weight!.copy_(high + low);

        var exact = torch.nn.functional.linear(x, linear.weight!.detach(), null);
        Tensor Run(Func<TorchSharp.Modules.Linear, Tensor, Tensor> call, out Tensor weightGrad, out Tensor inputGrad)
        {
            linear.zero_grad();
            using var input = x.clone().requires_grad_(true);
            Tensor y;
            using (Autocast.Enter(Precision.Bf16)) y = call(linear, input);
            Autocast.Float(y).mul(torch.arange(4, dtype: ScalarType.Float32)).sum().backward();
            weightGrad = linear.weight!.grad!.clone();
            inputGrad = input.grad!.clone();
            return y.detach();
        }
        var split = Run(Autocast.SplitWeightLinear, out var splitWeightGrad, out var splitInputGrad);
        var plain = Run(Autocast.Linear, out var plainWeightGrad, out var plainInputGrad);

        Assert.Equal(ScalarType.Float32, split.dtype);
        TensorAssert.Identical(exact, split, "split-weight output against the float32 product");
        TensorAssert.Identical(torch.nn.functional.linear(x, high, null), plain.to(ScalarType.Float32), "plain bf16 output against x·highᵀ");
        Assert.False(TensorAssert.AreIdentical(exact, plain.to(ScalarType.Float32)), "the plain bf16 linear must lose the low part");
        TensorAssert.Identical(plainWeightGrad, splitWeightGrad, "weight gradient");
        TensorAssert.Identical(plainInputGrad, splitInputGrad, "input gradient");

        // Without gradients (evaluation, sampling) it is the plain bf16 linear.
        using (torch.no_grad())
        using (Autocast.Enter(Precision.Bf16))
            TensorAssert.Identical(Autocast.Linear(linear, x), Autocast.SplitWeightLinear(linear, x), "no-grad output");
    }

    [Fact]
    public void Bf16_gpt_keeps_fp32_weights_residual_stream_and_losses_and_tracks_the_fp32_loss()
    {
        var g = LlamaGenTestModels.Generator();
        g.Module.train();
        var batch = Batch(g);
        var bf16 = MixedPrecisionGenerator.Wrap(g, Precision.Bf16);
        var loss = new TokenCrossEntropy();

        var out32 = g.Forward(batch);
        double loss32 = loss.Compute(out32.Logits, out32.Targets).item<float>();
        var out16 = bf16.Forward(batch);
        Assert.Equal(ScalarType.Float32, out16.Logits.dtype);
        var value = loss.Compute(out16.Logits, out16.Targets);
        Assert.Equal(ScalarType.Float32, value.dtype);
        value.backward();
        Assert.All(g.Module.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(g.Module.parameters().Where(p => p.grad is not null), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype));
        Assert.InRange(value.item<float>() / loss32, 0.98, 1.02);
        Assert.NotEqual(loss32, (double)value.item<float>());

        // Inside the blocks: residual stream and final norm fp32, the head's logits bf16.
        var hidden = new Dictionary<string, ScalarType>();
        using (Autocast.Enter(Precision.Bf16))
        {
            var logits = g.Network.forward(batch.Labels, batch.Tokens.narrow(1, 0, g.Info.Layout.SequenceLength - 1), (name, h) => hidden[name] = h.dtype);
            Assert.Equal(ScalarType.BFloat16, logits.dtype);
        }
        Assert.All(hidden.Values, dtype => Assert.Equal(ScalarType.Float32, dtype));
    }

    [Fact]
    public void Bf16_sampling_with_the_kv_cache_equals_bf16_sampling_without_it()
    {
        var g = LlamaGenTestModels.Generator(options: new Dictionary<string, string> { ["output_init_std"] = "0.5" });
        var bf16 = MixedPrecisionGenerator.Wrap(g, Precision.Bf16);
        using var labels = torch.tensor(new long[] { 0, 1, 2 });
        Tensor Sample(bool cache)
        {
            using var random = new torch.Generator(7);
            return bf16.Generate(labels, new SamplingOptions(CfgScale: 2.0, TopK: 1, UseKvCache: cache), random);
        }
        var cached = Sample(true);
        TensorAssert.Identical(Sample(false), cached, "greedy tokens");
        Assert.Equal(ScalarType.Int64, cached.dtype);
        Assert.All(g.Module.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void Bf16_var_trains_and_samples_with_fp32_logits_and_gradients()
    {
        var g = VarTestModels.Generator(seed: 0);
        g.Module.train();
        var bf16 = MixedPrecisionGenerator.Wrap(g, Precision.Bf16);
        var batch = Batch(g);
        var out32 = g.Forward(batch);
        double loss32 = new TokenCrossEntropy().Compute(out32.Logits, out32.Targets).item<float>();
        var output = bf16.Forward(batch);
        Assert.Equal(ScalarType.Float32, output.Logits.dtype);
        var loss = new TokenCrossEntropy().Compute(output.Logits, output.Targets);
        loss.backward();
        Assert.InRange(loss.item<float>() / loss32, 0.98, 1.02);
        Assert.All(g.Module.parameters().Where(p => p.grad is not null), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype));

        g.Module.eval();
        using var labels = torch.tensor(new long[] { 0, 1 });
        using var random = new torch.Generator(3);
        var tokens = bf16.Generate(labels, new SamplingOptions(CfgScale: 1.5), random);
        Assert.Equal(new long[] { 2, g.Info.Layout.SequenceLength }, tokens.shape);
        Assert.InRange(tokens.min().item<long>(), 0, g.Info.VocabularySize - 1);
        Assert.InRange(tokens.max().item<long>(), 0, g.Info.VocabularySize - 1);
    }
}
