using System.Text.RegularExpressions;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Training;
using IAR.Tests.LlamaGen;
using IAR.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// Host reads of a training step. Three views: (1) whole trainer steps (GPT forward with dropout and label drop, token
/// and cluster CE, backward, clipping, AdamW, EMA) counted through <see cref="HostRead"/>, through which every
/// sanctioned read of the step path goes; (2) a scan of the step path's sources for any read that bypasses it
/// (<c>.item</c>, <c>ToSingle</c>, <c>data&lt;T&gt;</c>, <c>.cpu()</c>, <c>.bytes</c>, <c>tolist</c>, <c>torch.equal</c>), so an
/// <c>.item()</c> added to the step fails here; (3) the optimizer on the meta device, where any host read throws.
/// libtorch's C++ build lacks meta kernels for embedding, attention and even <c>abs</c>, so a whole GPT step cannot
/// run on meta; on an accelerator the GPT's range guard is skipped and its dropout is libtorch's (both read CPU tensors
/// only), which (1) and (2) together pin down: the step's only reads are that guard's (the CPU dropout's keys come from
/// the seed and the step, not from a tensor); and
/// (4) whole steps rehearsed as on an accelerator (<see cref="HostRead.RehearseAccelerator"/>): those branches taken,
/// every read counted as a synchronisation, none per step.
/// </summary>
public class HostSyncTests(ITestOutputHelper output)
{
    /// <summary>The sources a generator training step runs through (the token source aside: it is host memory).</summary>
    static readonly string[] StepPath =
    [
        "abstractions/MixedPrecision.cs", "abstractions/ModulesTorchSharpLacks.cs", "abstractions/Generator.cs",
        "host/Training/MixedPrecisionGenerator.cs", "host/Iar/VocabularyRearrangement.cs",
        "host/Training/GeneratorLoss.cs", "host/Iar/ClusterCrossEntropy.cs",
        "host/Training/GeneratorObjective.cs", "host/Training/Trainer.cs", "host/Training/GradientClipping.cs",
        "host/Training/AdamW.cs", "host/Training/ExponentialMovingAverage.cs",
        "plugins/LlamaGen/Gpt",
    ];

    /// <summary>Reads that bypass <see cref="HostRead"/> on purpose, by file and line text, with the reason.</summary>
    static readonly (string File, string Line, string Why)[] Exempt =
    [
        ("host/Training/Trainer.cs", "group.Gather(mine.bytes.ToArray()",
            "checkpoint steps only: the global generator's state, a CPU tensor by definition"),
        ("abstractions/ModulesTorchSharpLacks.cs", "erf.item<double>()",
            "initialisation only (the bounds of a truncated normal init): erf of a CPU scalar made from a double"),
        ("plugins/LlamaGen/Gpt/Dropout.cs", "chunk.bytes = MemoryMarshal.AsBytes(values)",
            "a write, not a read: the CPU dropout mask, made on the host, copied into a new CPU tensor"),
    ];

    static readonly Regex Read = new(
        @"\.item\s*[<(]|\.To(Single|Double|Half|Int16|Int32|Int64|Boolean|Byte|Scalar)\s*\(|\bdata\s*<|\.cpu\s*\(|\.bytes\b|\.tolist\s*\(|torch\.equal\s*\(",
        RegexOptions.Compiled);

    [Fact]
    public void The_step_path_reads_tensor_values_only_through_HostRead()
    {
        var files = StepPath.SelectMany(p =>
        {
            var full = Path.Combine(RepoPaths.Root, p);
            if (Directory.Exists(full)) return Directory.GetFiles(full, "*.cs", SearchOption.AllDirectories);
            Assert.True(File.Exists(full), $"{p} is listed as part of the training step but does not exist; update StepPath.");
            return [full];
        }).ToArray();
        var bypassing = new List<string>();
        int gated = 0;
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(RepoPaths.Root, file).Replace('\\', '/');
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var code = Regex.Replace(lines[i], @"//.*$", "");   // comments and doc comments may name the reads
                gated += Regex.Matches(code, @"\bHostRead\.\w+\(").Count;
                if (!Read.IsMatch(code) || Exempt.Any(e => e.File == relative && code.Contains(e.Line))) continue;
                bypassing.Add($"{relative}:{i + 1}: {lines[i].Trim()}");
            }
        }
        output.WriteLine($"{files.Length} files of the step path; {gated} HostRead calls; exempt: {string.Join("; ", Exempt.Select(e => $"{e.File} ({e.Why})"))}");
        Assert.True(files.Length > 20, $"only {files.Length} step-path files found under {RepoPaths.Root}");
        Assert.True(bypassing.Count == 0,
            "Host reads on the training step's path that bypass HostRead (route them through it and keep them out of the step, or read at log time):\n" +
            string.Join("\n", bypassing));
    }

    [Theory]
    [InlineData(Precision.Fp32)]
    [InlineData(Precision.Bf16)]
    public void A_whole_gpt_training_step_on_the_cpu_reads_only_cpu_tensors_four_guards(Precision precision)
    {
        // The difference of a 2-step and a 5-step run is three steps: setup, the final log read and the weights file cancel.
        var (reads2, _) = ReadsOfTraining(precision, steps: 2);
        var (reads5, _) = ReadsOfTraining(precision, steps: 5);
        double perStep = (reads5 - reads2) / 3.0;
        output.WriteLine($"{precision}: {reads2} reads in 2 steps, {reads5} in 5 steps: {perStep} per step");
        // GptGenerator.Forward's guard for direct callers: token min and max, label min and max, read only from CPU
        // tensors (on an accelerator the batch is on the device and the guard is skipped; TokenCache and
        // GeneratorObjective validated the values). drop.any() is read only for a model without a null class.
        // Dropout on (token, residual, FFN) reads nothing: in training its masks are keyed by the trainer's step key
        // (TokenBatch.Masks), not by a draw from the global generator (on an accelerator it is libtorch's dropout).
        const int guards = 4;
        Assert.Equal(guards, perStep);
    }

    [Theory]
    [InlineData(Precision.Fp32)]
    [InlineData(Precision.Bf16)]
    public void A_whole_gpt_training_step_rehearsed_as_on_an_accelerator_synchronises_nothing(Precision precision)
    {
        // Under HostRead.RehearseAccelerator every read counts as a synchronisation and the code takes its accelerator
        // branches (no CPU-only guards, libtorch's dropout), so a read added to the step shows up here on a CPU-only
        // machine. Setup, the final log read and the weights file cancel in the difference of 5 and 2 steps.
        long syncs2, syncs5;
        using (HostRead.RehearseAccelerator()) (_, syncs2) = ReadsOfTraining(precision, steps: 2);
        using (HostRead.RehearseAccelerator()) (_, syncs5) = ReadsOfTraining(precision, steps: 5);
        output.WriteLine($"{precision}, rehearsed on an accelerator: {syncs2} syncs in 2 steps, {syncs5} in 5 steps (the log interval's and the end's reads)");
        Assert.True(syncs2 > 0, "the rehearsal counted no synchronisation at all, not even the end-of-run log read: it is not counting");
        Assert.Equal(syncs2, syncs5);
    }

    [Fact]
    public void A_read_counts_as_a_sync_only_off_the_cpu_or_in_a_rehearsal()
    {
        using var scalar = torch.tensor(7L);
        long reads = HostRead.Reads, syncs = HostRead.Syncs;
        Assert.Equal(7, HostRead.Long(scalar));
        Assert.True(HostRead.IsFree(scalar));
        Assert.Equal((1, 0), (HostRead.Reads - reads, HostRead.Syncs - syncs));
        using (HostRead.RehearseAccelerator())
        {
            using (HostRead.RehearseAccelerator()) Assert.False(HostRead.IsFree(scalar));
            Assert.False(HostRead.IsFree(scalar));   // an inner scope's end leaves the outer one active
            Assert.Equal(7, HostRead.Long(scalar));
        }
        Assert.True(HostRead.IsFree(scalar));
        Assert.Equal((2, 1), (HostRead.Reads - reads, HostRead.Syncs - syncs));
        // A tensor off the CPU: the meta device has no values, so the read throws after it was counted.
        using var meta = torch.zeros([], ScalarType.Int64, torch.device(DeviceType.META));
        Assert.False(HostRead.IsFree(meta));
        Assert.ThrowsAny<Exception>(() => HostRead.Long(meta));
        Assert.Equal((3, 2), (HostRead.Reads - reads, HostRead.Syncs - syncs));
    }

    static (long Reads, long Syncs) ReadsOfTraining(Precision precision, int steps)
    {
        using var dir = new TempDir();
        var generator = MixedPrecisionGenerator.Wrap(LlamaGenTestModels.Generator(options: new Dictionary<string, string>
        {
            ["token_dropout_p"] = "0.1", ["resid_dropout_p"] = "0.1", ["ffn_dropout_p"] = "0.1",
        }), precision);
        var info = generator.Info;
        using var tokens = new RandomTokens(count: 32, info.Layout.SequenceLength, info.VocabularySize, LlamaGenTestModels.NumClasses);
        var objective = new GeneratorObjective(generator, tokens,
            GeneratorLoss.Sum(new TokenCrossEntropy(), new ClusterCrossEntropy(ClusterLayout.Uniform(info.VocabularySize, 8))), labelDrop: 0.25, CPU);
        var trainer = new Trainer(new TrainerSettings
        {
            Training = new TrainingSpec
            {
                Steps = steps, BatchSize = 8, Lr = 1e-3, WarmupSteps = 1, GradClip = 0.5, Ema = 0.9, LabelDrop = 0.25,
                CheckpointEvery = 0, LogEvery = 100, Precision = precision == Precision.Bf16 ? PrecisionSetting.Bf16 : PrecisionSetting.Fp32,
            },
            Seed = 3, Folder = dir.File("job"), WeightsFile = dir.File("generator.safetensors"), Config = "host-sync",
            Tags = new Dictionary<string, object> { ["stage"] = "generator" }, Label = "generator",
        });
        long reads = HostRead.Reads, syncs = HostRead.Syncs;
        trainer.Run(objective);
        return (HostRead.Reads - reads, HostRead.Syncs - syncs);
    }

    [Fact]
    public void Adamw_over_a_gpt_on_an_accelerator_reads_no_value_to_build_or_to_step()
    {
        var gpt = LlamaGenTestModels.Generator();
        gpt.Module.to(torch.device(DeviceType.META));
        var parameters = gpt.Module.named_parameters().ToArray();
        // Building it once looked parameters up in a Tensor-keyed dictionary: one torch.equal per parameter.
        using var optimizer = new AdamW(parameters.Select(p => (p.name, p.parameter)), 0.9, 0.95, 0.05);
        foreach (var (_, p) in parameters) p.grad = torch.ones_like(p);
        for (int step = 0; step < 3; step++) optimizer.Step(1e-3);
        Assert.Equal(3, optimizer.StepCount);
    }
}
