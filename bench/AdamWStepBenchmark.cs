using IAR.Abstractions;
using IAR.Host.Training;
using IAR.Plugins.LlamaGen.Gpt;
using IAR.Plugins.LlamaGen.Vq;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// The host's AdamW step on the parameter sets of GPT-S and GPT-B (VQ-S's 8×8 grid of 1024 codes; GPT-B's blocks
/// hold all but 1.6 M of its parameters at this vocabulary): flattened groups against the per-parameter path. The
/// per-parameter path is the one a group takes when one of its parameters has no gradient, which is the arithmetic
/// of the AdamW before the flattening (tests/IAR.Tests/Training/FlattenedAdamWTests.cs proves both bit-identical);
/// here one small parameter of each group is left without a gradient to take it, in the same run. (On the CPU the
/// optimizer takes the per-parameter path by default: these figures are why.)
/// </summary>
public sealed class AdamWStepBenchmark : IBenchmark
{
    public string Name => "adamw";

    public string Description => "AdamW step time for GPT-S and GPT-B parameter sets: flattened groups vs per parameter, same run.";

    public void Run(BenchReport report)
    {
        foreach (var preset in new[] { "GPT-S", "GPT-B" })
        {
            torch.manual_seed(0);
            var tokenizer = new VqTokenizerFactory().Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), new ImageShape(1, 32, 32)));
            var module = new GptGeneratorFactory().Create(new GeneratorRequest(preset, new Dictionary<string, string>(), tokenizer, LlamaGenBenchModels.Classes)).Module;
            var parameters = module.named_parameters().ToArray();
            using var optimizer = new AdamW(parameters.Select(p => (p.name, p.parameter)), 0.9, 0.95, 0.05, flattenedStep: true);
            using var rng = new torch.Generator(1);
            var grads = parameters.Select(p => torch.randn(p.parameter.shape, generator: rng).mul_(1e-3)).ToArray();
            // the smallest 1-D and the smallest ≥2-D parameter: one per group
            var left = new HashSet<int>(new[] { false, true }.Select(matrix => Enumerable.Range(0, parameters.Length)
                .Where(i => parameters[i].parameter.dim() >= 2 == matrix).MinBy(i => parameters[i].parameter.NumberOfElements)));

            void Step(bool flattened)
            {
                for (int i = 0; i < parameters.Length; i++)
                    parameters[i].parameter.grad = flattened || !left.Contains(i) ? grads[i] : null;
                optimizer.Step(1e-4);
            }

            long count = parameters.Sum(p => p.parameter.NumberOfElements);
            var context = new Dictionary<string, object> { ["model"] = preset, ["parameters"] = count, ["tensors"] = parameters.Length, ["threads"] = torch.get_num_threads() };
            int repeats = preset == "GPT-S" ? 15 : 7;
            var flat = new List<double>();
            var perParameter = new List<double>();
            var flatCpu = new List<double>();
            var perParameterCpu = new List<double>();
            for (int round = 0; round < 3; round++)   // interleaved, so both see the same machine load
            {
                flat.AddRange(BenchReport.Time(() => Step(true), repeats));
                perParameter.AddRange(BenchReport.Time(() => Step(false), repeats));
                flatCpu.AddRange(LlamaGenBenchModels.SingleThreadCpuSeconds(() => Step(true), repeats: 3));
                perParameterCpu.AddRange(LlamaGenBenchModels.SingleThreadCpuSeconds(() => Step(false), repeats: 3));
            }
            report.Add($"{preset} AdamW step, flattened groups", flat.Select(s => s * 1e3).ToArray(), "ms", context);
            report.Add($"{preset} AdamW step, per parameter", perParameter.Select(s => s * 1e3).ToArray(), "ms", context);
            report.Add($"{preset} AdamW step, flattened groups, 1-thread cpu", flatCpu.Select(s => s * 1e3).ToArray(), "ms", context);
            report.Add($"{preset} AdamW step, per parameter, 1-thread cpu", perParameterCpu.Select(s => s * 1e3).ToArray(), "ms", context);
            foreach (var p in parameters) p.parameter.grad = null;
            foreach (var g in grads) g.Dispose();
        }
    }
}
