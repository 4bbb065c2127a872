using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// LlamaGen's <c>generate()</c>: for every <c>calls.tokens_{run}</c> of the case, the recorded call's arguments
/// (cfg_scale, temperature, top_k, top_p, …) give <c>tokens_{run}</c> and the logits of every step,
/// <c>debug_step_logits_{run}</c>. Only greedy calls are comparable: sampling draws from PyTorch's RNG.
/// </summary>
public sealed class LlamaGenGptGenerateHandler : IParityHandler
{
    public string Kind => "llamagen-gpt-generate";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var generator = LlamaGenParityModels.Gpt(c);
        generator.Module.eval();
        var results = new Dictionary<string, Tensor>();
        foreach (var output in c.CallsStartingWith("tokens_"))
        {
            var call = c.Call(output, "generate");
            var (labels, options, length) = Arguments(c, call);
            var steps = new List<Tensor>();
            using var rng = new torch.Generator(0, ParityCase.Device);
            var tokens = generator.Generate(labels, options, rng, logits => steps.Add(logits.clone().DetachFromDisposeScope()));
            if (tokens.shape[1] != length)
                throw new InvalidDataException(
                    $"{c.Dir}: {call} asks for max_new_tokens={length}, but GptGenerator always generates its whole grid of {tokens.shape[1]} tokens.");
            results[output] = tokens;                                                           // [B, L]
            results["debug_step_logits_" + output["tokens_".Length..]] = torch.stack(steps);    // [L, B, V]
        }
        return results;
    }

    /// <summary>
    /// <c>generate(model, labels, max_new_tokens, cfg_scale=1.0, cfg_interval=-1, temperature=1.0, top_k=0, top_p=1.0,
    /// sample_logits=True)</c> in our terms. Official guidance is on only for cfg_scale &gt; 1 and the temperature is
    /// clamped to 1e-5; sample_logits=False takes the argmax, which top-k 1 also does.
    /// </summary>
    static (Tensor Labels, SamplingOptions Options, int Length) Arguments(ParityCase c, OfficialCall call)
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
        if (sample && topK != 1)
            throw new InvalidDataException(
                $"{c.Dir}: {call} samples from PyTorch's RNG (top_k ≠ 1 and sample_logits=True), which no handler can reproduce; record a greedy call.");
        var options = new SamplingOptions(CfgScale: cfg > 1.0 ? cfg : 1.0, Temperature: Math.Max(temperature, 1e-5), TopK: sample ? topK : 1, TopP: topP);
        return (labels, options, length);
    }
}
