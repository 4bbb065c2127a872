using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Runs;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Serialization;
using IAR.Host.Training;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Tests.Support;
using TorchSharp;

namespace IAR.Tests.LlamaGen;

public class DropoutTests
{
    const double P = 0.1;

    [Fact]
    public void Drops_a_fraction_p_and_scales_the_survivors_by_one_over_one_minus_p()
    {
        torch.manual_seed(3);
        using var x = torch.rand(1 << 20).add_(1);   // [N] in [1, 2): a zero in the output can only be a drop
        using var y = Dropout.Apply(x, P);
        using var dropped = y.eq(0);
        double fraction = dropped.to(torch.float64).mean().item<double>();
        double sigma = Math.Sqrt(P * (1 - P) / x.NumberOfElements);   // binomial standard error, ≈ 3e-4
        Assert.InRange(fraction, P - 5 * sigma, P + 5 * sigma);
        using var kept = dropped.logical_not();
        using var scale = torch.ones(1).div_(1 - P);   // 1/(1−p) in fp32, as F.dropout scales
        Assert.True(y.masked_select(kept).eq(x.masked_select(kept) * scale).all().item<bool>(), "survivors must be x · 1/(1−p)");
    }

    [Fact]
    public void A_bf16_tensor_is_scaled_by_one_over_one_minus_p_without_bias_in_value_and_gradient()
    {
        // bf16 rounds 1/0.9 = 1.1111 to 1.109375 (−0.16 %); a mask cast to bf16 would shrink every survivor by that.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        var x = torch.rand(1 << 18).add_(1).to(torch.bfloat16).requires_grad_();   // [N] in [1, 2]
        var y = Dropout.Apply(x, P, key: 7, firstElement: 0);
        Assert.Equal(torch.bfloat16, y.dtype);
        var kept = y.ne(0);
        // Σ a / Σ b over the survivors, in float64: 1/(1−p) when each product is rounded on its own
        double SurvivorRatio(torch.Tensor a, torch.Tensor b) =>
            a.masked_select(kept).to(torch.float64).sum().item<double>() / b.masked_select(kept).to(torch.float64).sum().item<double>();
        Assert.InRange(SurvivorRatio(y.detach(), x.detach()), 1 / (1 - P) - 1e-4, 1 / (1 - P) + 1e-4);
        var upstream = torch.rand(x.shape).add_(1).to(torch.bfloat16);   // a varied gradient, as in training
        y.backward([upstream]);
        Assert.InRange(SurvivorRatio(x.grad!, upstream), 1 / (1 - P) - 1e-4, 1 / (1 - P) + 1e-4);
    }

    [Fact]
    public void The_same_seed_gives_the_same_mask_and_the_gradient_is_the_mask()
    {
        using var x = torch.randn(8, 16, 32).requires_grad_();
        torch.manual_seed(5);
        using var first = Dropout.Apply(x, P);
        torch.manual_seed(5);
        using var second = Dropout.Apply(x, P);
        Assert.True(first.eq(second).all().item<bool>());
        torch.manual_seed(6);
        using var other = Dropout.Apply(x, P);
        Assert.False(first.eq(other).all().item<bool>());

        first.sum().backward();
        using var expected = torch.where(first.detach().eq(0), 0.0, 1 / (1 - P)).to(torch.float32);   // d(sum)/dx = the scaled mask
        Assert.True(x.grad!.allclose(expected, rtol: 0, atol: 0));
    }

    [Fact]
    public void A_gpt_with_dropout_cancelled_and_resumed_ends_bit_identical_to_an_uninterrupted_run()
    {
        // The masks' keys come from the seed and the step (and the global generator for the others, whose state the
        // checkpoint carries); a key kept anywhere else (a counter, the clock) would give the resumed steps other masks.
        using var dir = new TempDir();
        var options = new Dictionary<string, string> { ["token_dropout_p"] = "0.1", ["resid_dropout_p"] = "0.1", ["ffn_dropout_p"] = "0.1" };
        var info = LlamaGenTestModels.Generator(options: options).Info;
        using var tokens = new RandomTokens(count: 32, info.Layout.SequenceLength, info.VocabularySize, LlamaGenTestModels.NumClasses);
        TrainerSettings Settings(string job) => new()
        {
            Training = new TrainingSpec { Steps = 12, BatchSize = 8, Lr = 1e-3, WarmupSteps = 1, CheckpointEvery = 5, LogEvery = 4 },
            Seed = 3, Folder = dir.File(job), WeightsFile = dir.File(Path.Combine(job, "generator.safetensors")), Config = "dropout-resume",
            Tags = new Dictionary<string, object> { ["stage"] = "generator" }, Label = job,
        };
        GeneratorObjective Objective(int initSeed) =>
            new(LlamaGenTestModels.Generator(initSeed, options), tokens, GeneratorLoss.Sum(new TokenCrossEntropy()), labelDrop: 0, torch.CPU);

        var straight = new Trainer(Settings("straight")).Run(Objective(0));
        using var cancel = new CancellationTokenSource();
        var interrupted = Settings("resumed") with
        {
            Cancellation = cancel.Token,
            Evaluate = step => { if (step == 7) cancel.Cancel(); },
            EvaluateEvery = 1,
        };
        Assert.Throws<OperationCanceledException>(() => new Trainer(interrupted).Run(Objective(0)));
        torch.manual_seed(12345);   // other global state and other initial weights: the checkpoint must restore both
        var resumed = new Trainer(Settings("resumed")).Run(Objective(9));

        Assert.Equal(7, resumed.ResumedFrom);
        var expected = SafeTensorsFile.Open(straight.WeightsFile).LoadAll();
        var actual = SafeTensorsFile.Open(resumed.WeightsFile).LoadAll();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var key in expected.Keys) TensorAssert.Identical(expected[key], actual[key], key);
    }

    [Fact]
    public void Accumulating_two_micro_batches_trains_what_one_batch_trains_dropout_included()
    {
        // Each micro-batch keys its masks by the global sample index of its rows; keyed by its own rows (or by a fresh
        // key per call) the second half of the batch would see other masks and the weights would drift apart.
        using var dir = new TempDir();
        var options = new Dictionary<string, string> { ["token_dropout_p"] = "0.1", ["resid_dropout_p"] = "0.1", ["ffn_dropout_p"] = "0.1" };
        var info = LlamaGenTestModels.Generator(options: options).Info;
        using var tokens = new RandomTokens(count: 32, info.Layout.SequenceLength, info.VocabularySize, LlamaGenTestModels.NumClasses);
        (string Weights, double[] Losses) Train(string job, int parts)
        {
            var metrics = new MetricsLog(dir.File(job + ".jsonl"), tensorBoard: false);
            var settings = new TrainerSettings
            {
                Training = new TrainingSpec { Steps = 12, BatchSize = 8, Lr = 1e-3, WarmupSteps = 1, LogEvery = 1, GradientAccumulation = parts },
                Seed = 3, Folder = dir.File(job), WeightsFile = dir.File(Path.Combine(job, "generator.safetensors")), Config = "dropout-parts",
                Tags = new Dictionary<string, object> { ["stage"] = "generator" }, Label = job, Metrics = metrics,
            };
            var objective = new GeneratorObjective(LlamaGenTestModels.Generator(0, options), tokens, GeneratorLoss.Sum(new TokenCrossEntropy()), labelDrop: 0, torch.CPU);
            torch.manual_seed(parts);   // the global generator must not matter to the keyed masks
            var outcome = new Trainer(settings).Run(objective);
            return (outcome.WeightsFile, metrics.ReadAll().Select(r => r.GetProperty("loss").GetDouble()).ToArray());
        }

        var (wholeWeights, wholeLosses) = Train("whole", parts: 1);
        var (partsWeights, partsLosses) = Train("parts", parts: 2);
        Assert.Equal(12, wholeLosses.Length);
        Assert.Equal(wholeLosses.Length, partsLosses.Length);
        for (int i = 0; i < wholeLosses.Length; i++)
            Assert.True(Math.Abs(wholeLosses[i] - partsLosses[i]) <= 1e-5 * Math.Abs(wholeLosses[i]),
                $"step {i + 1}: loss {wholeLosses[i]} in one batch, {partsLosses[i]} in two micro-batches");
        var expected = SafeTensorsFile.Open(wholeWeights).LoadAll();
        var actual = SafeTensorsFile.Open(partsWeights).LoadAll();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var key in expected.Keys) TensorAssert.Close(expected[key], actual[key], 1e-5, 1e-5, key);
    }

    [Fact]
    public void A_keyed_mask_of_a_part_is_that_part_of_the_whole_mask_at_any_offset()
    {
        // Offsets 0, an odd one (the scalar head before the vector loop) and one past a vector's 16 elements.
        const ulong key = 0xC0FFEE;
        using var whole = Dropout.KeepMask([1000], P, key);
        foreach (long first in new long[] { 0, 7, 19, 500 })
        {
            using var part = Dropout.KeepMask([3, 100], P, key, firstElement: first);
            using var expected = whole.narrow(0, first, 300).view(3, 100);
            Assert.True(part.eq(expected).all().item<bool>(), $"the mask from element {first} differs from the whole mask's elements {first}…");
        }
    }

    [Fact]
    public void A_gpt_forward_of_two_halves_at_their_sample_offsets_equals_the_forward_of_the_whole_batch()
    {
        var options = new Dictionary<string, string> { ["token_dropout_p"] = "0.1", ["resid_dropout_p"] = "0.1", ["ffn_dropout_p"] = "0.1" };
        var g = LlamaGenTestModels.Generator(options: options);
        g.Module.train();
        using var scope = torch.NewDisposeScope();
        var tokens = torch.randint(0, g.Info.VocabularySize, [6, g.Info.Layout.SequenceLength], torch.int64);
        var labels = torch.randint(0, LlamaGenTestModels.NumClasses, [6], torch.int64);
        const ulong step = 42;
        torch.manual_seed(1);
        var whole = g.Forward(new TokenBatch(tokens, labels, Masks: new MaskKey(step, 0))).Logits;               // [6, L, V]
        torch.manual_seed(2);   // the global generator must not matter
        var first = g.Forward(new TokenBatch(tokens[..2], labels[..2], Masks: new MaskKey(step, 0))).Logits;
        var second = g.Forward(new TokenBatch(tokens[2..], labels[2..], Masks: new MaskKey(step, 2))).Logits;
        TensorAssert.Close(whole, torch.cat([first, second]), 1e-5, 1e-5, "halves at their offsets");
        var otherStep = g.Forward(new TokenBatch(tokens, labels, Masks: new MaskKey(step + 1, 0))).Logits;
        Assert.False(whole.allclose(otherStep, rtol: 1e-3, atol: 1e-3), "another step's key gave the same masks");
        g.Module.eval();
        var noDropout = g.Forward(new TokenBatch(tokens, labels)).Logits;
        Assert.False(whole.allclose(noDropout, rtol: 1e-3, atol: 1e-3), "training mode dropped nothing");
    }

    [Fact]
    public void An_element_keeps_its_value_however_long_the_mask_so_the_vector_and_scalar_paths_agree()
    {
        // In a mask of 37 elements 32…36 come from the scalar tail; in one of 1000, from the 16-wide vector loop.
        const ulong key = 0xDEADBEEF;
        using var shortMask = Dropout.KeepMask([37], P, key);
        using var longMask = Dropout.KeepMask([1000], P, key);
        using var prefix = longMask.narrow(0, 0, 37);
        Assert.True(shortMask.eq(prefix).all().item<bool>(), "the same key must give the same value for an element, whichever loop computes it");
        using var otherKey = Dropout.KeepMask([1000], P, key + 1);
        Assert.False(longMask.eq(otherKey).all().item<bool>());
    }

    [Fact]
    public void Neighbouring_elements_are_dropped_independently()
    {
        // Elements 2j and 2j+1 are the two halves of one hash; 2j+1 and 2j+2 come from consecutive hashes.
        using var dropped = Dropout.KeepMask([1 << 20], P, key: 7).eq(0).to(torch.float64);
        using var even = dropped.slice(0, 0, (1 << 20) - 1, 2);
        using var odd = dropped.slice(0, 1, 1 << 20, 2);
        using var nextEven = dropped.slice(0, 2, 1 << 20, 2);
        double n = (1 << 19) - 1;
        double sigma = Math.Sqrt(P * P * (1 - P * P) / n);   // standard error of a both-dropped frequency, ≈ 1.4e-4
        double samePair = even.narrow(0, 0, (long)n).mul(odd.narrow(0, 0, (long)n)).mean().item<double>();
        double acrossPairs = odd.narrow(0, 0, (long)n).mul(nextEven.narrow(0, 0, (long)n)).mean().item<double>();
        Assert.InRange(samePair, P * P - 5 * sigma, P * P + 5 * sigma);
        Assert.InRange(acrossPairs, P * P - 5 * sigma, P * P + 5 * sigma);
    }
}
