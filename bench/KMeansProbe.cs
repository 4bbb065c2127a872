using System.Diagnostics;
using IAR.Host.Clustering;
using IAR.Host.Losses;
using TorchSharp;
using static TorchSharp.torch;
namespace IAR.Bench;
public sealed class KMeansProbe : IBenchmark
{
    public string Name => "probe";
    public string Description => "scratch";
    public void Run(BenchReport report)
    {
        using var g = new torch.Generator(2);
        using var logits = torch.randn([32, 64, 1024], generator: g).requires_grad_(true);
        using var targets = torch.randint(0, 1024, [32, 64], generator: g, dtype: ScalarType.Int64);
        var layout = ClusterLayout.Uniform(1024, 128);
        var cce = new ClusterCrossEntropy(layout);
        var ct = targets.div(128, RoundingMode.floor).reshape(-1);
        var variants = new (string, Func<Tensor>)[]
        {
            ("token CE", () => nn.functional.cross_entropy(logits.reshape(-1, 1024), targets.reshape(-1))),
            ("cce logsumexp", () => cce.Compute(logits, targets)),
            ("cce softmax-sum", () => nn.functional.nll_loss(logits.softmax(-1).reshape(-1, 8, 128).sum(-1).log(), ct)),
            ("cce logsoftmax-lse", () => nn.functional.cross_entropy(logits.log_softmax(-1).reshape(-1, 8, 128).logsumexp(-1), ct)),
            ("cce blockmax-exp", () => { var b = logits.reshape(-1, 8, 128); var mx = b.amax([-1], keepdim: true).detach(); var lse = (b - mx).exp().sum(-1).log() + mx.squeeze(-1); return nn.functional.cross_entropy(lse, ct); }),
            ("cce rowmax-exp", () => { var r = logits.reshape(-1, 1024); var mx = r.amax([-1], keepdim: true).detach(); var lse = (r - mx).exp().reshape(-1, 8, 128).sum(-1).log() + mx; return nn.functional.cross_entropy(lse, ct); }),
            ("lse only fwd", () => logits.detach().reshape(-1, 8, 128).logsumexp(-1).sum()),
            ("amax", () => logits.detach().reshape(-1, 8, 128).amax(-1).sum()),
        };
        foreach (var (name, f) in variants)
        {
            var s = BenchReport.Time(() => { using var sc = torch.NewDisposeScope(); logits.grad?.zero_(); var l = f(); if (l.requires_grad) l.backward(); }, 40, 5);
            Console.WriteLine($"{name,-20} min {s.Min() * 1e3:F2} ms  median {BenchReport.Median(s) * 1e3:F2} ms");
        }
    }
}
