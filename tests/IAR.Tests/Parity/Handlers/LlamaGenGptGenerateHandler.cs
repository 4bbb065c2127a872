using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>LlamaGen's generate() with top-k 1, with and without guidance, including the logits of every step.</summary>
public sealed class LlamaGenGptGenerateHandler : IParityHandler
{
    public string Kind => "llamagen-gpt-generate";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var generator = LlamaGenParityModels.Gpt(c);
        generator.Module.eval();
        var labels = c.Input("labels");
        var results = new Dictionary<string, Tensor>();
        foreach (var (suffix, cfg) in new[] { ("cfg", 2.0), ("nocfg", 1.0) })
        {
            var steps = new List<Tensor>();
            using var rng = new torch.Generator(0, ParityCase.Device);
            var tokens = generator.Generate(labels, new SamplingOptions(CfgScale: cfg, Temperature: 1.0, TopK: 1, TopP: 1.0), rng,
                logits => steps.Add(logits.clone().DetachFromDisposeScope()));
            results[$"tokens_{suffix}"] = tokens;
            results[$"debug_step_logits_{suffix}"] = torch.stack(steps);                        // [L, B, V]
        }
        return results;
    }
}
