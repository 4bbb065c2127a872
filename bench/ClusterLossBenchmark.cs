using IAR.Host.Training;
using System.Diagnostics;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Plugins;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Bench;

/// <summary>
/// What the cluster cross-entropy costs in training: full AdamW steps of LlamaGen GPT-S (vocabulary 1024 from VQ-S,
/// 8×8 grid, 10 classes) with token CE alone and with token CE + λ·cluster CE, interleaved in the same run so that
/// machine noise hits both alike, with the median of each phase (forward, loss, backward, optimizer); plus the loss
/// alone (forward + backward on fixed logits) as training computes it (<see cref="GeneratorLoss.Compute"/>), with equal
/// and with unequal clusters. The generator is built through the plugin catalog, as the host builds it.
/// </summary>
public sealed class ClusterLossBenchmark : IBenchmark
{
    const int Batch = 32, Classes = 10, ClusterSize = 128, Warmup = 3, Steps = 60;

    public string Name => "cluster-loss";

    public string Description => "training-step overhead of the cluster CE on LlamaGen GPT-S (vocab 1024, 8x8), and the loss terms alone.";

    public void Run(BenchReport report)
    {
        var catalog = PluginCatalog.Load(Path.Combine(AppContext.BaseDirectory, "plugins"));
        torch.manual_seed(0);
        var tokenizer = catalog.TokenizerFactory("LlamaGen", "VQ-S")
            .Create(new TokenizerRequest("VQ-S", new Dictionary<string, string>(), new ImageShape(1, 32, 32)));
        var generator = catalog.GeneratorFactory("LlamaGen", "GPT-S")
            .Create(new GeneratorRequest("GPT-S", new Dictionary<string, string>(), tokenizer, Classes));
        int vocab = generator.Info.VocabularySize, length = generator.Info.Layout.SequenceLength;
        var context = new Dictionary<string, object>
        {
            ["model"] = "LlamaGen GPT-S", ["vocab"] = vocab, ["tokens"] = length, ["batch"] = Batch,
            ["cluster_size"] = ClusterSize, ["threads"] = torch.get_num_threads(),
        };

        var tokenCe = new TokenCrossEntropy();
        var clusterCe = new ClusterCrossEntropy(ClusterLayout.Uniform(vocab, ClusterSize));
        GeneratorLoss baseline = GeneratorLoss.Sum(tokenCe), iar = GeneratorLoss.Sum(tokenCe, clusterCe);
        generator.Module.train();
        using var optimizer = torch.optim.AdamW(generator.Module.parameters(), lr: 1e-4);
        using var data = new torch.Generator(1);

        var phases = new Dictionary<(bool, string), List<double>>();
        double Step(GeneratorLoss loss)
        {
            var watch = Stopwatch.StartNew();
            double last = 0;
            void Mark(string phase)
            {
                double now = watch.Elapsed.TotalSeconds;
                var key = (loss.Terms.Count > 1, phase);
                if (!phases.TryGetValue(key, out var list)) phases[key] = list = [];
                list.Add((now - last) * 1e3);
                last = now;
            }
            using var scope = torch.NewDisposeScope();
            var tokens = torch.randint(0, vocab, [Batch, length], generator: data, dtype: ScalarType.Int64);
            var labels = torch.randint(0, Classes, [Batch], generator: data, dtype: ScalarType.Int64);
            optimizer.zero_grad();
            Mark("zero_grad");
            var output = generator.Forward(new TokenBatch(tokens, labels));
            Mark("forward");
            var total = loss.Compute(output.Logits, output.Targets).Total;
            Mark("loss");
            total.backward();
            Mark("backward");
            optimizer.step();
            Mark("optimizer");
            return watch.Elapsed.TotalSeconds;
        }

        for (int i = 0; i < Warmup; i++)
        {
            Step(baseline);
            Step(iar);
        }
        var withoutCce = new List<double>();
        var withCce = new List<double>();
        for (int i = 0; i < Steps; i++)
        {
            // Alternate which goes first so that neither always follows the other.
            if (i % 2 == 0)
            {
                withoutCce.Add(Step(baseline));
                withCce.Add(Step(iar));
            }
            else
            {
                withCce.Add(Step(iar));
                withoutCce.Add(Step(baseline));
            }
        }
        report.Add("train step, token CE", withoutCce, "s", context);
        report.Add("train step, token CE + cluster CE", withCce, "s", context);
        var ratios = withCce.Zip(withoutCce, (a, b) => 100 * (a / b - 1)).ToArray();
        report.Add("cluster CE overhead per step (paired)", ratios, "%", context);
        foreach (var ((withTerm, phase), values) in phases)
            report.Add($"phase {phase}, {(withTerm ? "token CE + cluster CE" : "token CE")}", values.Skip(Warmup).ToArray(), "ms", context);
        report.Add("cluster CE overhead (median of each)", 100 * (BenchReport.Median(withCce) / BenchReport.Median(withoutCce) - 1), "%", context);

        // The loss alone, forward + backward on logits of the same shape, as training computes it (shared log-softmax).
        using var g = new torch.Generator(2);
        using var logits = torch.randn([Batch, length, vocab], generator: g).requires_grad_(true);
        using var targets = torch.randint(0, vocab, [Batch, length], generator: g, dtype: ScalarType.Int64);
        var unequal = new ClusterCrossEntropy(ClusterLayout.FromSizes(UnequalSizes(vocab, vocab / ClusterSize)));
        var combinations = new (string, GeneratorLoss)[]
        {
            ("token CE", baseline), ("token CE + cluster CE (equal m)", iar), ("token CE + cluster CE (unequal sizes)", GeneratorLoss.Sum(tokenCe, unequal)),
            ("cluster CE on its own logits (equal m)", GeneratorLoss.Sum(clusterCe)),
        };
        foreach (var (name, loss) in combinations)
        {
            var seconds = BenchReport.Time(() =>
            {
                using var scope = torch.NewDisposeScope();
                logits.grad?.zero_();
                loss.Compute(logits, targets).Total.backward();
            }, repeats: 20, warmup: 3);
            report.Add($"loss alone fwd+bwd, {name}", seconds.Select(s => s * 1e3).ToArray(), "ms", context);
        }
    }

    /// <summary>Sizes like the plain k-means ablation's: n clusters from about m/2 to 2m, adding up to V.</summary>
    static int[] UnequalSizes(int vocab, int clusters)
    {
        var sizes = Enumerable.Range(0, clusters).Select(j => vocab / clusters / 2 + j * (vocab / clusters) / Math.Max(1, clusters - 1)).ToArray();
        sizes[^1] += vocab - sizes.Sum();
        return sizes;
    }
}
