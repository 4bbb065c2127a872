using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Training;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// The flattened-group <see cref="AdamW"/> against the per-parameter implementation it replaced (kept here, verbatim
/// in its arithmetic, as the reference): same gradients, same parameters and moments bit for bit.
/// </summary>
public class FlattenedAdamWTests
{
    /// <summary>The AdamW of before the flattening: about ten small ops per parameter and step.</summary>
    sealed class PerParameterAdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double beta1, double beta2, double weightDecay, double eps = 1e-8)
    {
        readonly (string Name, Parameter Parameter, Tensor ExpAvg, Tensor ExpAvgSq, bool Decays)[] slots = parameters
            .Where(p => p.Parameter.requires_grad)
            .Select(p => (p.Name, p.Parameter, torch.zeros_like(p.Parameter).detach(), torch.zeros_like(p.Parameter).detach(), p.Parameter.dim() >= 2))
            .ToArray();
        long stepCount;

        public IEnumerable<KeyValuePair<string, Tensor>> State() =>
            slots.SelectMany(s => new KeyValuePair<string, Tensor>[] { new($"exp_avg.{s.Name}", s.ExpAvg), new($"exp_avg_sq.{s.Name}", s.ExpAvgSq) });

        public void Step(double lr)
        {
            stepCount++;
            double biasCorrection1 = 1 - Math.Pow(beta1, stepCount);
            double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, stepCount));
            double stepSize = lr / biasCorrection1;
            using var noGrad = torch.no_grad();
            foreach (var s in slots)
            {
                var grad = s.Parameter.grad;
                if (grad is null) continue;
                using var scope = torch.NewDisposeScope();
                var p = s.Parameter.detach();
                if (s.Decays && weightDecay != 0) p.mul_(1 - lr * weightDecay);
                s.ExpAvg.lerp_(grad, 1 - beta1);
                s.ExpAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
                var denom = s.ExpAvgSq.sqrt().div_(biasCorrection2Sqrt).add_(eps);
                p.addcdiv_(s.ExpAvg, denom, -stepSize);
            }
        }
    }

    /// <summary>GPT-S over VQ-S's 8×8 grid of 1024 codes (the benchmark model): 2-D weights of many sizes, 1-D norm gains.</summary>
    static nn.Module GptS()
    {
        torch.manual_seed(11);
        var tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), new ImageShape(1, 32, 32)));
        torch.manual_seed(12);
        return new GptGeneratorFactory().Create(new GeneratorRequest("GPT-S", new Dictionary<string, string>(), tokenizer, 10)).Module;
    }

    /// <summary>The same pseudo-random gradients for both models; <paramref name="skip"/> gets none (an unused parameter).</summary>
    static void SetGradients(nn.Module model, int step, int skip)
    {
        using var rng = new torch.Generator((ulong)(1000 + step));
        int i = 0;
        foreach (var p in model.parameters())
        {
            var grad = torch.randn(p.shape, generator: rng).mul_(0.01 * (1 + i % 3));
            p.grad = i++ == skip ? null : grad;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Gives_the_per_parameter_result_bit_for_bit(int threads)
    {
        int before = torch.get_num_threads();
        torch.set_num_threads(threads);
        try
        {
            var reference = GptS();
            var flat = GptS();
            var old = new PerParameterAdamW(reference.named_parameters(), 0.9, 0.95, 0.05);
            using var adamw = new AdamW(flat.named_parameters(), 0.9, 0.95, 0.05, flattenedStep: true);
            int count = flat.parameters().Count();
            for (int step = 0; step < 8; step++)
            {
                int skip = step == 3 ? 2 : step == 5 ? count - 1 : -1;   // two steps with a parameter without gradient
                SetGradients(reference, step, skip);
                SetGradients(flat, step, skip);
                double lr = 1e-3 * (step + 1);
                old.Step(lr);
                adamw.Step(lr);
            }
            foreach (var ((name, a), (_, b)) in reference.named_parameters().Zip(flat.named_parameters()))
                TensorAssert.Identical(a.detach(), b.detach(), name);
            foreach (var (a, b) in old.State().Zip(adamw.State()))
            {
                Assert.Equal(a.Key, b.Key);
                TensorAssert.Identical(a.Value, b.Value, a.Key);
            }
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Fact]
    public void The_module_sees_the_updates_and_its_state_dict_round_trips()
    {
        var model = GptS();
        var names = model.named_parameters().Select(p => p.name).ToArray();
        using var adamw = new AdamW(model.named_parameters(), 0.9, 0.95, 0.05, flattenedStep: true);
        Assert.Equal(names, model.named_parameters().Select(p => p.name).ToArray());
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        SetGradients(model, 0, -1);
        adamw.Step(1e-2);
        Assert.All(model.state_dict().Where(kv => before.ContainsKey(kv.Key) && kv.Value.requires_grad),
            kv => Assert.False(TensorAssert.AreIdentical(before[kv.Key], kv.Value), $"{kv.Key} did not change"));
        // loading copies into the parameters, which stay views of the optimizer's buffers: the next step moves them
        model.load_state_dict(before);
        foreach (var (name, p) in model.named_parameters()) TensorAssert.Identical(before[name], p.detach(), name);
        SetGradients(model, 1, -1);
        adamw.Step(1e-2);
        Assert.Contains(model.named_parameters(), p => !TensorAssert.AreIdentical(before[p.name], p.parameter.detach()));
    }
}
