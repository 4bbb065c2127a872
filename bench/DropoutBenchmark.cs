using IAR.Plugins.LlamaGen.Gpt;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Bench;

/// <summary>
/// Dropout p = 0.1 on a GPT-S activation [64, 64, 256] (a GPT-S step runs nine of them): libtorch's F.dropout against
/// the GPT's <see cref="Dropout"/>, forward and forward + backward, and the mask generators alone (libtorch's bernoulli_
/// and uniform samplers, the GPT's counter hash), per call.
/// </summary>
public sealed class DropoutBenchmark : IBenchmark
{
    const double P = 0.1;
    const int Calls = 20;

    public string Name => "dropout";

    public string Description => "dropout p = 0.1 on [64, 64, 256]: F.dropout vs the GPT's Dropout (counter-hash mask), fwd and fwd+bwd, and the mask generators, per call.";

    public void Run(BenchReport report)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(64, 64, 256).requires_grad_();
        var context = new Dictionary<string, object> { ["shape"] = "[64, 64, 256]", ["p"] = P, ["threads"] = torch.get_num_threads() };
        // Wall time on the machine's threads, and single-thread CPU time (steadier where other tenants share the cores).
        void Add(string measure, Action action)
        {
            void Batch()
            {
                for (int i = 0; i < Calls; i++) action();
            }
            report.Add(measure, BenchReport.Time(Batch, repeats: 9).Select(s => s / Calls * 1e3).ToArray(), "ms", context);
            report.Add(measure + ", 1-thread cpu", LlamaGenBenchModels.SingleThreadCpuSeconds(Batch, repeats: 7).Select(s => s / Calls * 1e3).ToArray(), "ms", context);
        }
        void ForwardBackward(Func<Tensor, Tensor> dropout)
        {
            using var step = torch.NewDisposeScope();
            dropout(x).sum().backward();
            x.grad!.Dispose();
            x.grad = null;
        }
        using (torch.no_grad())
        {
            Add("F.dropout fwd", () => F.dropout(x, P).Dispose());
            Add("Dropout fwd", () => Dropout.Apply(x, P).Dispose());
            Add("mask: bernoulli_(1-p)", () => torch.empty_like(x).bernoulli_(1 - P).Dispose());
            Add("mask: rand >= p", () => torch.rand_like(x).ge_(P).Dispose());
            Add("mask: Dropout.KeepMask (counter hash)", () => Dropout.KeepMask(x.shape, P, key: 12345).Dispose());
        }
        Add("F.dropout fwd+bwd", () => ForwardBackward(t => F.dropout(t, P)));
        Add("Dropout fwd+bwd", () => ForwardBackward(t => Dropout.Apply(t, P)));
    }
}
