using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// AdamW (decoupled weight decay) with the arithmetic of <c>torch.optim.AdamW</c>'s single-tensor path, written
/// with tensors so that its whole state (two moments per parameter and the step count) is plain tensors: it is
/// saved into safetensors checkpoints and restored bit for bit. Weight decay applies only to parameters of two or
/// more dimensions (matrices, embeddings, convolutions), never to biases, norms or gains, as in nanoGPT and LlamaGen.
/// </summary>
public sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<Slot> slots;
    readonly double beta1, beta2, weightDecay, eps;

    sealed record Slot(string Name, Parameter Parameter, Tensor ExpAvg, Tensor ExpAvgSq, bool Decays);

    /// <param name="parameters">Named trainable parameters (those with requires_grad; others are ignored).</param>
    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double beta1, double beta2, double weightDecay, double eps = 1e-8)
    {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
        this.eps = eps;
        slots = parameters.Where(p => p.Parameter.requires_grad)
            .Select(p => new Slot(p.Name, p.Parameter, torch.zeros_like(p.Parameter).detach(), torch.zeros_like(p.Parameter).detach(), p.Parameter.dim() >= 2))
            .ToArray();
    }

    /// <summary>Optimizer steps taken so far (the bias correction uses it).</summary>
    public long StepCount { get; private set; }

    /// <summary>The names of the parameters that receive weight decay.</summary>
    public IReadOnlyList<string> Decayed => slots.Where(s => s.Decays).Select(s => s.Name).ToArray();

    public IReadOnlyList<Parameter> Parameters => slots.Select(s => s.Parameter).ToArray();

    /// <summary>Drops every gradient (set to none, so unused parameters are skipped by the next step).</summary>
    public void ZeroGrad()
    {
        foreach (var s in slots)
        {
            var grad = s.Parameter.grad;
            if (grad is null) continue;
            s.Parameter.grad = null;
            grad.Dispose();
        }
    }

    /// <summary>One update with learning rate <paramref name="lr"/>; parameters without a gradient are left as they are.</summary>
    public void Step(double lr)
    {
        StepCount++;
        double biasCorrection1 = 1 - Math.Pow(beta1, StepCount);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, StepCount));
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

    /// <summary>The state as named tensors (live references): <c>exp_avg.&lt;param&gt;</c>, <c>exp_avg_sq.&lt;param&gt;</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State()
    {
        foreach (var s in slots)
        {
            yield return new($"exp_avg.{s.Name}", s.ExpAvg);
            yield return new($"exp_avg_sq.{s.Name}", s.ExpAvgSq);
        }
    }

    /// <summary>Restores <see cref="State"/> and the step count.</summary>
    /// <exception cref="InvalidDataException">A moment is missing or has another shape (named, with <paramref name="source"/>).</exception>
    public void Load(IReadOnlyDictionary<string, Tensor> state, long stepCount, string source)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in State())
        {
            if (!state.TryGetValue(name, out var value))
                throw new InvalidDataException($"Checkpoint {source} lacks the optimizer state {name}.");
            if (!value.shape.SequenceEqual(target.shape))
                throw new InvalidDataException(
                    $"Checkpoint {source} has optimizer state {name} of shape [{string.Join(", ", value.shape)}], the model needs [{string.Join(", ", target.shape)}].");
            target.copy_(value);
        }
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var s in slots)
        {
            s.ExpAvg.Dispose();
            s.ExpAvgSq.Dispose();
        }
    }
}
