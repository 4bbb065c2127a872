using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// AdamW (decoupled weight decay) with the arithmetic of <c>torch.optim.AdamW</c>'s single-tensor path, written
/// with tensors so that its whole state (two moments per parameter and the step count) is plain tensors: it is
/// saved into safetensors checkpoints and restored bit for bit. Weight decay applies only to parameters of two or
/// more dimensions (matrices, embeddings, convolutions), never to biases, norms or gains, as in nanoGPT and LlamaGen.
/// <para>
/// Flattened groups: the parameters of a group (same decay, dtype and device) become views into one contiguous
/// buffer, and so do their two moments. On a GPU a step is then a handful of element-wise kernels over each group's
/// buffer instead of about ten small ones per parameter, which would bound it by launch latency; the gradients are
/// gathered into one buffer per step (autograd allocates them per parameter). Element-wise, each value sees exactly
/// the per-parameter arithmetic, so the result is bit for bit the same (FlattenedAdamWTests). On the CPU the
/// per-parameter loop over the same views stays the default: it runs each parameter's ten ops while its four tensors
/// are in cache, and the whole-buffer passes measured 2–3× slower (bench <c>adamw</c>). A step in which some parameter
/// of a group has no gradient updates that group per parameter and skips the parameter, as before.
/// </para>
/// </summary>
public sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<Group> groups;
    readonly IReadOnlyList<Slot> slots;   // in the order given, for State()
    readonly double beta1, beta2, weightDecay, eps;
    readonly bool? flattenedStep;

    sealed record Slot(string Name, Parameter Parameter, Tensor ExpAvg, Tensor ExpAvgSq, bool Decays);

    /// <param name="Values">[N]: the storage of every parameter of the group.</param>
    sealed record Group(bool Decays, Tensor Values, Tensor ExpAvg, Tensor ExpAvgSq, Slot[] Slots);

    /// <param name="parameters">Named trainable parameters (those with requires_grad; others are ignored). Their
    /// values move into the optimizer's group buffers (the parameters become views of them).</param>
    /// <param name="flattenedStep">Update each group's whole buffer at once (true) or parameter by parameter (false);
    /// null: whole buffers on accelerators, per parameter on the CPU.</param>
    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double beta1, double beta2, double weightDecay, double eps = 1e-8,
        bool? flattenedStep = null)
    {
        this.flattenedStep = flattenedStep;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
        this.eps = eps;
        var trainable = parameters.Where(p => p.Parameter.requires_grad).ToArray();
        groups = trainable
            .GroupBy(p => (Decays: p.Parameter.dim() >= 2, p.Parameter.dtype, Device: p.Parameter.device.ToString()))
            .Select(g => Flatten(g.Key.Decays, g.ToArray()))
            .ToArray();
        // By reference: TorchSharp's Tensor.Equals compares contents (torch.equal), a full read of every parameter
        // (a host synchronisation on an accelerator) that would also merge two parameters with equal values.
        var byParameter = groups.SelectMany(g => g.Slots).ToDictionary<Slot, Parameter>(s => s.Parameter, ReferenceEqualityComparer.Instance);
        slots = trainable.Select(p => byParameter[p.Parameter]).ToArray();
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
        double decay = 1 - lr * weightDecay;
        using var noGrad = torch.no_grad();
        foreach (var group in groups)
        {
            var grads = group.Slots.Select(s => s.Parameter.grad).ToArray();
            if ((flattenedStep ?? group.Values.device_type != DeviceType.CPU) && grads.All(g => g is not null))
            {
                using var scope = torch.NewDisposeScope();
                var grad = torch.cat(grads.Select(g => g!.reshape(-1)).ToArray());   // [N], in the order of Values
                Update(group.Values, grad, group.ExpAvg, group.ExpAvgSq, group.Decays, decay, biasCorrection2Sqrt, stepSize);
                continue;
            }
            foreach (var (s, grad) in group.Slots.Zip(grads))
            {
                if (grad is null) continue;
                using var scope = torch.NewDisposeScope();   // one parameter's temporaries at a time
                Update(s.Parameter.detach(), grad, s.ExpAvg, s.ExpAvgSq, group.Decays, decay, biasCorrection2Sqrt, stepSize);
            }
        }
    }

    /// <summary>The per-element AdamW update of <paramref name="p"/> in place, as torch.optim.AdamW's single-tensor path.</summary>
    void Update(Tensor p, Tensor grad, Tensor expAvg, Tensor expAvgSq, bool decays, double decay, double biasCorrection2Sqrt, double stepSize)
    {
        if (decays && weightDecay != 0) p.mul_(decay);
        expAvg.lerp_(grad, 1 - beta1);
        expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        var denom = expAvgSq.sqrt().div_(biasCorrection2Sqrt).add_(eps);
        p.addcdiv_(expAvg, denom, -stepSize);
    }

    /// <summary>
    /// One buffer for the group's values and one per moment; each parameter is re-pointed at its stretch of the
    /// values (its data copied there first), each moment slot is a view of its stretch.
    /// </summary>
    static Group Flatten(bool decays, (string Name, Parameter Parameter)[] members)
    {
        var first = members[0].Parameter;
        long total = members.Sum(m => m.Parameter.NumberOfElements);
        var values = torch.empty(total, first.dtype, first.device);
        var expAvg = torch.zeros(total, first.dtype, first.device);
        var expAvgSq = torch.zeros(total, first.dtype, first.device);
        var slots = new Slot[members.Length];
        long offset = 0;
        using (torch.no_grad())
        {
            for (int i = 0; i < members.Length; i++)
            {
                var (name, parameter) = members[i];
                long n = parameter.NumberOfElements;
                var shape = parameter.shape;
                using (var stretch = values.narrow(0, offset, n).view(shape))
                {
                    stretch.copy_(parameter);
                    parameter.set_(stretch);
                }
                slots[i] = new Slot(name, parameter, expAvg.narrow(0, offset, n).view(shape), expAvgSq.narrow(0, offset, n).view(shape), decays);
                offset += n;
            }
        }
        return new Group(decays, values, expAvg, expAvgSq, slots);
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

    /// <summary>Frees the moments; the parameters keep the values buffer alive (they are views of it).</summary>
    public void Dispose()
    {
        foreach (var g in groups)
        {
            foreach (var s in g.Slots)
            {
                s.ExpAvg.Dispose();
                s.ExpAvgSq.Dispose();
            }
            g.ExpAvg.Dispose();
            g.ExpAvgSq.Dispose();
            g.Values.Dispose();
        }
    }
}
