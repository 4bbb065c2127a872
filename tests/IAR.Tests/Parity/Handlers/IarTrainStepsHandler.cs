using System.Globalization;
using IAR.Abstractions;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Iar;
using IAR.Host.Runs;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Parity.Handlers;

/// <summary>
/// The official training step (IAR's train_c2i.py: <c>creat_optimizer</c>'s AdamW, token CE + λ·cluster CE,
/// <c>clip_grad_norm_</c>, step), repeated on one batch, against the host's own <see cref="Trainer"/> and
/// <see cref="GeneratorObjective"/> as a job runs them: each step's losses (from the job's metrics.jsonl, logged every
/// step) and the weights after the last step, on <see cref="ParityCase.Device"/>. The batch is the whole data set, so
/// the sampler's order within it is the only difference (a sum's order: float32 rounding).
/// </summary>
public sealed class IarTrainStepsHandler : IParityHandler
{
    public string Kind => "iar-train-steps";

    public IReadOnlyDictionary<string, Tensor> Run(ParityCase c)
    {
        var optimizerCall = c.Call("optimizer", "creat_optimizer");
        if (optimizerCall.PositionalName(0) != "model")
            throw new InvalidDataException($"{c.Dir}: creat_optimizer's first argument must be the model, not '{optimizerCall.PositionalName(0)}'.");
        double weightDecay = Required(c, optimizerCall, "weight_decay");
        double lr = Required(c, optimizerCall, "learning_rate");
        var (beta1, beta2) = Pair(c, optimizerCall.Take("betas") ?? throw Missing(c, "betas"));
        optimizerCall.TakeName("logger");   // where it logs the groups' sizes: nothing that changes a number
        optimizerCall.RequireAllRead(Kind);

        var trainCall = c.Call("losses", "train_steps");
        var tokens = c.Inputs.Load(trainCall.PositionalName(1));    // int64 [B, L]: z_indices, on the CPU as a token source's are
        var labels = c.Inputs.Load(trainCall.PositionalName(2));    // int64 [B]: c_indices
        int steps = trainCall.TakeInt("steps", -1);
        double lambda = Required(c, trainCall, "lambda_cce");
        double maxGradNorm = Required(c, trainCall, "max_grad_norm");
        // A bound on the work a case file can ask for: a parity case is a few steps, not a training run.
        if (trainCall.TakeName("optimizer") != "optimizer" || steps is < 1 or > MaxSteps)
            throw new InvalidDataException($"{c.Dir}: train_steps needs 1 ≤ steps ≤ {MaxSteps} and optimizer=optimizer (the creat_optimizer call).");
        trainCall.RequireAllRead(Kind);

        // The official model draws its dropout masks and label drops from PyTorch's global generator: not reproducible.
        foreach (var key in RandomKeys)
            if (c.Config.TryGetProperty(key, out var p) && p.GetDouble() != 0)
                throw new InvalidDataException($"{c.Dir}: config.json {key} = {p.GetDouble()}; a training case needs 0 (its draws cannot be reproduced).");
        var generator = LlamaGenParityModels.Gpt(c);
        int clusterSize = c.Config.GetProperty("cluster_size").GetInt32();
        var training = new TrainingSpec
        {
            Steps = steps, BatchSize = (int)tokens.shape[0], Lr = lr, WeightDecay = weightDecay, Beta1 = beta1, Beta2 = beta2,
            WarmupSteps = 0, Schedule = LrSchedule.Constant, GradClip = maxGradNorm, LabelDrop = 0, Ema = 0,
            CheckpointEvery = 0, LogEvery = 1, Precision = PrecisionSetting.Fp32,
        };
        var spec = new ExperimentSpec { Training = training, Iar = new IarSpec { Enabled = true, Lambda = lambda } };
        var loss = GeneratorLoss.For(spec, ClusterLayout.Uniform(generator.Info.VocabularySize, clusterSize), LossTermCatalog.BuiltIn);

        using var folder = new TempDir();
        using var gradients = torch.enable_grad();   // the harness runs handlers under no_grad
        var metrics = new MetricsLog(folder.File(RunLayout.MetricsFile));
        new Trainer(new TrainerSettings
        {
            Training = training,
            Seed = 0,
            Folder = folder.File("job"),
            WeightsFile = folder.File("generator.safetensors"),
            Config = $"parity case {c.Name}",
            Tags = new Dictionary<string, object> { ["stage"] = "generator" },
            Label = $"parity {c.Name}",
            Tokenizer = "parity",
            Metrics = metrics,
            Device = ParityCase.Device,
        }).Run(new GeneratorObjective(generator, new CaseBatch(tokens, labels, generator.Info), loss, labelDrop: 0, ParityCase.Device));

        var lines = metrics.ReadAll();
        if (lines.Count != steps)
            throw new InvalidDataException($"{c.Dir}: the trainer logged {lines.Count} steps, the case has {steps}.");
        Tensor Column(string key) => torch.tensor(lines.Select(l => (float)l.GetProperty(key).GetDouble()).ToArray());   // [steps]
        var results = new Dictionary<string, Tensor>
        {
            ["losses"] = Column("loss"),
            ["loss1s"] = Column("loss/cluster_ce"),
            ["loss2s"] = Column("loss/token_ce"),
        };
        foreach (var (name, value) in generator.Module.state_dict())
            results["final." + name] = value.detach().clone();
        generator.Module.Dispose();
        return results;
    }

    const int MaxSteps = 100;

    static readonly string[] RandomKeys = ["token_dropout_p", "attn_dropout_p", "resid_dropout_p", "ffn_dropout_p", "drop_path_rate", "class_dropout_prob"];

    static double Required(ParityCase c, OfficialCall call, string keyword) =>
        call.TakeDouble(keyword, double.NaN) is var value && double.IsFinite(value) ? value : throw Missing(c, keyword);

    static InvalidDataException Missing(ParityCase c, string keyword) =>
        new($"{c.Dir}: the recorded call has no numeric '{keyword}'; the official step needs it.");

    /// <summary>A Python pair literal, e.g. <c>(0.9, 0.95)</c>.</summary>
    static (double, double) Pair(ParityCase c, string text)
    {
        var parts = text.Trim().TrimStart('(', '[').TrimEnd(')', ']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var a) &&
            double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var b))
            return (a, b);
        throw new InvalidDataException($"{c.Dir}: betas='{text}' is not a pair of numbers such as (0.9, 0.95).");
    }

    /// <summary>The case's batch as the whole data set (one variant, labels as given).</summary>
    sealed class CaseBatch(Tensor tokens, Tensor labels, GeneratorInfo info) : ITokenSource
    {
        public int Count => (int)tokens.shape[0];
        public int SequenceLength => (int)tokens.shape[1];
        public int Variants => 1;
        public int VocabularySize => info.VocabularySize;
        public int NumClasses => info.NumClasses;
        public string Permutation => "identity";

        public TokenBatch Gather(Tensor indices, Tensor? variants = null) => new(tokens.index_select(0, indices), labels.index_select(0, indices));
    }
}
