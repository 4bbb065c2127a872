using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// An exponential moving average of a module's trainable parameters (shadow = d·shadow + (1 − d)·param after every
/// step). Buffers are not averaged; evaluation and the exported weights use the shadow parameters with the live buffers.
/// With warm-up the decay after step t (0-based) is min(d, (1 + t) / (10 + t)), as in diffusers' EMAModel: a constant
/// d = 0.999 would still hold 0.999^1200 ≈ 30 % of the random initial weights after 1200 steps.
/// </summary>
public sealed class ExponentialMovingAverage : IDisposable
{
    readonly IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter, Tensor Shadow)> slots;

    public ExponentialMovingAverage(nn.Module module, double decay, bool warmup)
    {
        if (decay is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(decay), "The EMA decay must be in (0, 1).");
        Decay = decay;
        Warmup = warmup;
        using var noGrad = torch.no_grad();
        slots = module.named_parameters().Where(p => p.parameter.requires_grad)
            .Select(p => (p.name, p.parameter, p.parameter.detach().clone()))
            .ToArray();
    }

    public double Decay { get; }

    public bool Warmup { get; }

    /// <summary>The decay applied by the update after step <paramref name="step"/> (0-based).</summary>
    public double DecayAt(long step) => Warmup ? Math.Min(Decay, (1.0 + step) / (10.0 + step)) : Decay;

    /// <summary>Moves the shadow towards the weights after step <paramref name="step"/> (0-based) of training.</summary>
    public void Update(long step)
    {
        double weight = 1 - DecayAt(step);
        using var noGrad = torch.no_grad();
        foreach (var (_, parameter, shadow) in slots) shadow.lerp_(parameter, weight);
    }

    /// <summary>Puts the averaged weights into the module until the result is disposed (then the trained ones return).</summary>
    public IDisposable SwapIn() => new Swap(slots.Select(s => (s.Parameter, s.Shadow)).ToArray());

    /// <summary>Copies the averaged weights into the module for good.</summary>
    public void ApplyTo()
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, parameter, shadow) in slots) parameter.copy_(shadow);
    }

    /// <summary>The shadow parameters by parameter name (live references).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State() => slots.Select(s => new KeyValuePair<string, Tensor>(s.Name, s.Shadow));

    /// <exception cref="InvalidDataException">A shadow parameter is missing or misshaped.</exception>
    public void Load(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, _, shadow) in slots)
        {
            if (!state.TryGetValue(name, out var value) || !value.shape.SequenceEqual(shadow.shape))
                throw new InvalidDataException($"Checkpoint {source} lacks the EMA weights of {name} (or they have another shape).");
            shadow.copy_(value);
        }
    }

    public void Dispose()
    {
        foreach (var s in slots) s.Shadow.Dispose();
    }

    sealed class Swap : IDisposable
    {
        readonly (TorchSharp.Modules.Parameter Parameter, Tensor Saved)[] saved;

        public Swap((TorchSharp.Modules.Parameter Parameter, Tensor Shadow)[] pairs)
        {
            using var noGrad = torch.no_grad();
            saved = pairs.Select(p => (p.Parameter, p.Parameter.detach().clone())).ToArray();
            foreach (var (parameter, shadow) in pairs) parameter.copy_(shadow);
        }

        public void Dispose()
        {
            using var noGrad = torch.no_grad();
            foreach (var (parameter, copy) in saved)
            {
                parameter.copy_(copy);
                copy.Dispose();
            }
        }
    }
}
