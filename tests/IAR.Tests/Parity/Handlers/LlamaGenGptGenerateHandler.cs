using IAR.Abstractions;
using IAR.Plugins.LlamaGen.Gpt;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// LlamaGen's <c>generate()</c>: for every <c>calls.tokens_{run}</c> of the case, the recorded call's arguments
/// (cfg_scale, temperature, top_k, top_p, …) give <c>tokens_{run}</c>, the logits of every step
/// (<c>debug_step_logits_{run}</c>, before temperature) and the distribution each step draws from
/// (<c>debug_step_probs_{run}</c>, the plugin's <see cref="LogitFilter"/> on those logits). A sampled call is
/// comparable when the case records the seed it ran under (<c>torch.manual_seed(s); generate(…)</c>): PyTorch's CPU
/// <c>multinomial(p, 1)</c> is argmax(p / q) with q ~ Exp(1) drawn from the generator, and libtorch draws the same q
/// for the same seed, so the plugin's sampler on a CPU generator seeded s must pick the same tokens. A case with a
/// sampled call therefore runs on the CPU whatever IAR_PARITY_DEVICE says (a CUDA generator draws other q); its greedy
/// siblings check the device.
/// </summary>
public sealed class LlamaGenGptGenerateHandler : IParityHandler
{
    public string Kind => "llamagen-gpt-generate";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var generator = LlamaGenParityModels.Gpt(c);
        generator.Module.eval();
        var calls = c.CallsStartingWith("tokens_").Select(output => (Output: output, Call: c.Call(output, "generate"))).ToList();
        var arguments = calls.Select(x => Arguments(c, x.Output, x.Call)).ToList();
        var device = arguments.Any(a => a.Sampled) ? CPU : ParityCase.Device;
        generator.Module.to(device);
        var results = new Dictionary<string, Tensor>();
        foreach (var ((output, call), (labels, options, length, seed, _)) in calls.Zip(arguments))
        {
            var steps = new List<Tensor>();
            using var rng = new torch.Generator((ulong)seed, device);
            var tokens = generator.Generate(labels.to(device), options, rng, logits => steps.Add(logits.clone().DetachFromDisposeScope()));
            if (tokens.shape[1] != length)
                throw new InvalidDataException(
                    $"{c.Dir}: {call} asks for max_new_tokens={length}, but GptGenerator always generates its whole grid of {tokens.shape[1]} tokens.");
            var run = output["tokens_".Length..];
            var stepLogits = torch.stack(steps);                                                 // [L, B, V]
            results[output] = tokens;                                                           // [B, L]
            results["debug_step_logits_" + run] = stepLogits;
            results["debug_step_probs_" + run] = LogitFilter.Apply(stepLogits, options).softmax(-1);   // [L, B, V]
        }
        return results;
    }

    /// <summary>
    /// <c>generate(model, labels, max_new_tokens, cfg_scale=1.0, cfg_interval=-1, temperature=1.0, top_k=0, top_p=1.0,
    /// sample_logits=True)</c> in our terms. Official guidance is on only for cfg_scale &gt; 1 and the temperature is
    /// clamped to 1e-5; sample_logits=False takes the argmax, which top-k 1 also does. The seed is that of a
    /// <c>torch.manual_seed(s)</c> recorded before the call; a sampled call without one fails. Sampled: the call draws
    /// from the generator (not greedy).
    /// </summary>
    static (Tensor Labels, SamplingOptions Options, int Length, long Seed, bool Sampled) Arguments(ParityCase c, string output, OfficialCall call)
    {
        var labels = c.Input(call.PositionalName(1));
        int length = call.Positional.Count > 2 ? int.Parse(call.Positional[2], System.Globalization.CultureInfo.InvariantCulture) : call.TakeInt("max_new_tokens", -1);
        if (length < 0) throw new InvalidDataException($"{c.Dir}: {call} gives no max_new_tokens.");
        double cfg = call.TakeDouble("cfg_scale", 1.0);
        if (call.TakeInt("cfg_interval", -1) != -1)
            throw new InvalidDataException($"{c.Dir}: {call} stops guidance after a step (cfg_interval ≠ -1), which GptGenerator does not implement.");
        double temperature = call.TakeDouble("temperature", 1.0);
        int topK = call.TakeInt("top_k", 0);
        double topP = call.TakeDouble("top_p", 1.0);
        bool sample = call.TakeBool("sample_logits", true);
        call.RequireAllRead("llamagen-gpt-generate");
        bool greedy = !sample || topK == 1;
        long seed = 0;                                                                          // a greedy call draws nothing
        if (!greedy)
        {
            var seeding = c.TryCall(output, "manual_seed")
                ?? throw new InvalidDataException(
                    $"{c.Dir}: {call} samples from PyTorch's RNG (top_k ≠ 1 and sample_logits=True) without a recorded seed; record 'torch.manual_seed(s); generate(…)'.");
            if (seeding.Positional.Count != 1 || !long.TryParse(seeding.Positional[0], System.Globalization.CultureInfo.InvariantCulture, out seed) || seed < 0)
                throw new InvalidDataException($"{c.Dir}: calls.{output}: manual_seed takes one non-negative integer, not '{string.Join(", ", seeding.Positional)}'.");
            seeding.RequireAllRead("llamagen-gpt-generate");
        }
        var options = new SamplingOptions(CfgScale: cfg > 1.0 ? cfg : 1.0, Temperature: Math.Max(temperature, 1e-5), TopK: sample ? topK : 1, TopP: topP);
        return (labels, options, length, seed, !greedy);
    }
}
