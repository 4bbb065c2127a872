using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace IAR.Bench;

/// <summary>
/// Where a GPT-S training step spends its wall time in fp32 and in bf16 (TorchSharp 0.107 has no autograd profiler):
/// the step's phases timed by instrumentation (forward, loss, backward, clipping, AdamW), and each op of a layer
/// alone at the step's shapes, forward and backward, as the model calls it (an <see cref="Autocast"/> region for
/// bf16, the plain call for fp32). fp32 and bf16 are interleaved op by op so that both see the same machine load.
/// Sizes: GPT-S dim 128 (the quickstart's, batch 48) and dim 256 (the study's, batch 64), 64 tokens each.
/// </summary>
public sealed class PrecisionProfileBenchmark : IBenchmark
{
    const int Rounds = 5;

    public string Name => "precision-profile";

    public string Description => "Per-phase and per-op wall time of a GPT-S train step (dim 128 and 256) in fp32 vs bf16, interleaved, medians.";

    public void Run(BenchReport report)
    {
        foreach (var (size, batch) in new[] { (LlamaGenBenchModels.GptSize.Quickstart, 48), (LlamaGenBenchModels.GptSize.Small, 64) })
        {
            var gpt = LlamaGenBenchModels.Gpt(0.1, size);
            gpt.Module.train();
            var context = LlamaGenBenchModels.Context(gpt, size);
            context["batch"] = batch;
            Phases(report, gpt, batch, context);
            Ops(report, size, batch, gpt.Info.Layout.SequenceLength, gpt.Info.VocabularySize, context);
            gpt.Module.Dispose();
        }
    }

    static readonly Precision[] Both = [Precision.Fp32, Precision.Bf16];

    static string Tag(Precision p) => p.ToString().ToLowerInvariant();

    /// <summary>The step's phases as the trainer runs them, milliseconds each, and the whole step.</summary>
    static void Phases(BenchReport report, IGenerator gpt, int batchSize, Dictionary<string, object> context)
    {
        var defaults = new TrainingSpec();
        var batch = LlamaGenBenchModels.RandomBatch(gpt, batchSize);
        var loss = new TokenCrossEntropy();
        using var optimizer = new AdamW(gpt.Module.named_parameters().Select(p => (p.name, p.parameter)), defaults.Beta1, defaults.Beta2, defaults.WeightDecay);
        string[] phases = ["forward", "loss", "backward", "clip", "adamw", "step"];
        var samples = Both.ToDictionary(p => p, _ => phases.ToDictionary(n => n, _ => new List<double>()));
        for (int round = 0; round < Rounds + 1; round++)
            foreach (var precision in Both)
            {
                var generator = MixedPrecisionGenerator.Wrap(gpt, precision);
                var times = new double[phases.Length];
                var watch = System.Diagnostics.Stopwatch.StartNew();
                using (var scope = torch.NewDisposeScope())
                {
                    optimizer.ZeroGrad();
                    var output = generator.Forward(batch);
                    times[0] = watch.Elapsed.TotalMilliseconds;
                    var value = loss.Compute(output.Logits, output.Targets);
                    times[1] = watch.Elapsed.TotalMilliseconds;
                    value.backward();
                    times[2] = watch.Elapsed.TotalMilliseconds;
                    GradientClipping.Clip(optimizer.Parameters, defaults.GradClip);
                    times[3] = watch.Elapsed.TotalMilliseconds;
                    optimizer.Step(1e-4);
                    times[4] = watch.Elapsed.TotalMilliseconds;
                }
                times[5] = watch.Elapsed.TotalMilliseconds;
                if (round == 0) continue;   // warm-up
                for (int i = 0; i < phases.Length; i++)
                    samples[precision][phases[i]].Add(i is 0 or 5 ? times[i] : times[i] - times[i - 1]);
            }
        foreach (var phase in phases)
            foreach (var precision in Both)
                report.Add($"{context["model"]}: phase {phase} ({Tag(precision)})", samples[precision][phase], "ms", context);
    }

    /// <summary>One layer's ops alone at the step's shapes, forward + backward, milliseconds.</summary>
    static void Ops(BenchReport report, LlamaGenBenchModels.GptSize size, int batch, int length, int vocabulary, Dictionary<string, object> context)
    {
        int dim = size.Dim, hidden = (int)Math.Ceiling(2 * 4 * dim / 3 / 256.0) * 256, heads = size.Heads, headDim = dim / heads;
        long tokens = (long)batch * length;
        using var rng = new torch.Generator(0);
        Tensor Weight(int outFeatures, int inFeatures) => (torch.randn([outFeatures, inFeatures], generator: rng) * 0.02).requires_grad_();

        var weights = new Dictionary<string, Tensor>
        {
            ["wqkv"] = Weight(3 * dim, dim), ["wo"] = Weight(dim, dim), ["w1"] = Weight(hidden, dim), ["w2"] = Weight(dim, hidden), ["head"] = Weight(vocabulary, dim),
        };
        var residual = torch.randn([batch, length, dim], generator: rng);          // fp32, as RMSNorm gives it
        var wide = torch.randn([batch, length, hidden], generator: rng);           // the SwiGLU product
        var attended = torch.randn([batch, length, dim], generator: rng);          // SDPA's output, reshaped
        var qkv = torch.randn([3, batch, heads, length, headDim], generator: rng);
        var rope = new IAR.Plugins.LlamaGen.Gpt.RotaryEmbedding2D(new GridSize(8, 8), headDim, 10000, 1);
        var norm = torch.ones(dim).requires_grad_();

        // Inputs in the type the model feeds each op: the residual stream's norm is fp32, SDPA's output and the
        // SwiGLU product are the compute type.
        Tensor In(Tensor x) => (Autocast.ComputeType is { } t ? x.to(t) : x.clone()).requires_grad_();
        Tensor Float(Tensor x) => x.clone().requires_grad_();
        void Backward(Tensor y) => y.backward([torch.ones_like(y)]);

        var ops = new (string Name, Action Body)[]
        {
            ("linear wqkv [T,D]→[T,3D] (fp32 input)", () => Backward(Autocast.Linear(Float(residual), weights["wqkv"], null))),
            ("linear wo [T,D]→[T,D]", () => Backward(Autocast.Linear(In(attended), weights["wo"], null))),
            // What the GPT runs for wqkv and wo in training: the weight as two bf16 terms (in fp32, the plain call).
            ("split-weight linear wqkv [T,D]→[T,3D] (fp32 input)", () => Backward(Autocast.SplitWeightLinear(Float(residual), weights["wqkv"], null))),
            ("split-weight linear wo [T,D]→[T,D]", () => Backward(Autocast.SplitWeightLinear(In(attended), weights["wo"], null))),
            ("linear w1 [T,D]→[T,F] (fp32 input), ×2 with w3", () => Backward(Autocast.Linear(Float(residual), weights["w1"], null))),
            ("linear w2 [T,F]→[T,D]", () => Backward(Autocast.Linear(In(wide), weights["w2"], null))),
            ("linear head [T,D]→[T,V] (fp32 input)", () => Backward(Autocast.Float(Autocast.Linear(Float(residual), weights["head"], null)))),
            ("sdpa causal [B,H,L,hd]", () =>
            {
                var q = In(qkv[0]); var k = In(qkv[1]); var v = In(qkv[2]);
                Backward(Autocast.Attention(q, k, v, null, 0, causal: true));
            }),
            ("rope q and k [B,L,H,hd]", () =>
            {
                var q = In(qkv[0].transpose(1, 2).contiguous());
                Backward(rope.Apply(q, 0)); Backward(rope.Apply(In(qkv[1].transpose(1, 2).contiguous()), 0));
            }),
            ("rmsnorm [T,D], ×2", () =>
            {
                var x = Float(residual);
                var inverseRms = x.norm(-1, keepdim: true).pow(2).div_(dim).add_(1e-5).rsqrt_();
                Backward(x * inverseRms * norm);
            }),
            ("silu(a)·b [T,F]", () =>
            {
                var a = In(wide); var b = In(wide);
                Backward(F.silu(a).mul_(b));
            }),
            ("residual add bf16+fp32 [T,D], ×2", () => Backward(Float(residual) + In(attended))),
        };

        foreach (var (name, body) in ops)
        {
            var samples = Both.ToDictionary(p => p, _ => new List<double>());
            for (int round = 0; round < Rounds; round++)
                foreach (var precision in Both)
                    samples[precision].AddRange(BenchReport.Time(() =>
                    {
                        using var scope = torch.NewDisposeScope();
                        using var region = Autocast.Enter(precision);
                        body();
                        foreach (var w in weights.Values) w.grad?.zero_();
                    }, repeats: 3, warmup: 1).Select(s => s * 1000));
            foreach (var precision in Both)
                report.Add($"{size.Name}: op {name} ({Tag(precision)})", samples[precision], "ms", context);
        }

        // The bf16 GEMM kernels for the three layouts a linear's forward and backward use, at wqkv's shape.
        foreach (var (name, m, k, n, ta, tb) in new[] { ("NN x·Wᵀ", tokens, dim, 3 * dim, false, true), ("NT dY·W", tokens, 3 * dim, dim, false, false), ("TN dYᵀ·x", 3L * dim, tokens, dim, true, false) })
        {
            var samples = Both.ToDictionary(p => p, _ => new List<double>());
            for (int round = 0; round < Rounds; round++)
                foreach (var precision in Both)
                {
                    using var scope = torch.NewDisposeScope();
                    var type = precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
                    var a = (ta ? torch.randn([k, m], generator: rng).t() : torch.randn([m, k], generator: rng)).to(type);
                    var b = (tb ? torch.randn([n, k], generator: rng).t() : torch.randn([k, n], generator: rng)).to(type);
                    double flops = 2.0 * m * k * n;
                    samples[precision].AddRange(BenchReport.Time(() => { using var s = torch.NewDisposeScope(); torch.mm(a, b); }, repeats: 5, warmup: 2)
                        .Select(sec => flops / sec / 1e9));
                }
            foreach (var precision in Both)
                report.Add($"{size.Name}: gemm {name} M{m} K{k} N{n} ({Tag(precision)})", samples[precision], "GFLOP/s", context);
        }
    }
}
