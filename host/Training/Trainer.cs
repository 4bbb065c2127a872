using IAR.Host.Runs;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using IAR.Abstractions;
using IAR.Host.Distributed;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// The training loop shared by tokenizers and generators: AdamW (decay on ≥2-D weights), warm-up then constant or
/// cosine learning rate, global-norm clipping, optional EMA, every loss term logged to metrics.jsonl, checkpoints
/// every N steps and at the end, and automatic resume from the newest checkpoint of its folder. On the CPU a run
/// that is killed and resumed ends with the same weights, bit for bit, as one that never stopped: batch order is
/// a function of the step, and every random stream the loop draws from is restored from the checkpoint.
/// </summary>
public sealed class Trainer(TrainerSettings settings)
{
    public const string WeightsFormat = "iar-weights/1";

    const int Total = 0;   // window column of the weighted total; terms follow, the gradient norm is last

    public TrainerSettings Settings { get; } = settings;

    /// <summary>Seconds this session's steps spent in data-parallel collectives since the last log line.</summary>
    double collectiveSeconds;

    /// <summary>Trains <paramref name="objective"/> to the spec's step count (or loads the finished result) and writes the final weights.</summary>
    /// <exception cref="RunFailedException">The loss or gradient became NaN or infinite; the last good checkpoint is kept.</exception>
    /// <exception cref="InvalidDataException">A checkpoint of this job's folder belongs to another configuration or is damaged.</exception>
    /// <exception cref="IOException">The job's folder cannot be written.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; a checkpoint of the last finished step was written first.</exception>
    public TrainingOutcome Run(ITrainingObjective objective)
    {
        var spec = Settings.Training;
        var module = objective.Module;
        var group = Settings.Group;   // its size divides the batch: checked where the launch is read (RunCommand)
        if (group.IsDistributed) LogShare(spec);
        // Decisions that read the file system are rank 0's, so that every rank takes the same path.
        if (group.Agree(() => File.Exists(Settings.WeightsFile), "whether the job is finished"))
        {
            LoadFinishedWeights(module);
            Settings.Log?.Info($"{Settings.Label}: already trained ({Settings.WeightsFile})");
            return new TrainingOutcome(spec.Steps, null, Settings.WeightsFile, AlreadyComplete: true);
        }

        var checkpoints = new CheckpointFolder(Path.Combine(Settings.Folder, RunLayout.CheckpointsFolder), Settings.Training.KeepCheckpoints);
        if (group.IsMain)
        {
            CreateFolder(checkpoints.Path);
            checkpoints.RemoveStaleTempFiles();
        }
        using var optimizer = new AdamW(module.named_parameters().Select(p => (p.name, p.parameter)), spec.Beta1, spec.Beta2, spec.WeightDecay);
        using var ema = spec.Ema > 0 ? new ExponentialMovingAverage(module, spec.Ema, spec.EmaWarmup) : null;
        using var random = new torch.Generator((ulong)DerivedSeed.Of(Settings.Seed, "trainer"));
        var state = new LoopState(objective.Terms.Count + 2);

        var latest = group.Agree(() => checkpoints.Latest(message => Settings.Log?.Warn(message)), "the checkpoint to resume from");
        if (latest is not null)
        {
            Restore(latest, module, optimizer, ema, random, state);
            Settings.Log?.Info($"{Settings.Label}: resuming from step {state.Step} ({latest})");
        }
        else
            torch.manual_seed(DerivedSeed.Of(Settings.Seed, "torch", group.Rank));   // each rank its own stream for masks not keyed by sample
        DataParallel.BroadcastState(group, module);
        long? resumedFrom = latest is null ? null : state.Step;
        Settings.Metrics?.RemoveWhere(record => Owns(record) && record.TryGetProperty("step", out var s) && s.GetInt64() > state.Step);

        using var session = new Session(this, objective, checkpoints, optimizer, ema, random, state, lastCheckpoint: resumedFrom ?? -1);
        session.TrainToTheEnd();

        if (group.IsMain) WriteWeights(module, ema, state.Step);
        return new TrainingOutcome(state.Step, resumedFrom, Settings.WeightsFile, AlreadyComplete: false);
    }

    /// <summary>Data parallel: which samples of every global batch this rank trains.</summary>
    void LogShare(TrainingSpec spec)
    {
        var group = Settings.Group;
        var share = new BatchShare(group.Rank, group.Size, spec.GradientAccumulation).Ranges(spec.BatchSize).ToArray();
        Settings.Log?.Info($"{Settings.Label}: {group.Describe()} trains samples {share[0].Start}–{share[^1].Start + share[^1].Size - 1} " +
                           $"of every global batch of {spec.BatchSize} ({share.Length} × {share[0].Size})");
    }

    /// <summary>
    /// The steps of one call of <see cref="Run"/>, from the resumed (or first) step to the last: train, and at their
    /// steps log, evaluate and checkpoint. It owns what those share: the step window on the device, the clocks of
    /// this session and the step of the last checkpoint.
    /// </summary>
    sealed class Session(Trainer trainer, ITrainingObjective objective, CheckpointFolder checkpoints, AdamW optimizer,
        ExponentialMovingAverage? ema, torch.Generator random, LoopState state, long lastCheckpoint) : IDisposable
    {
        readonly TrainingSpec spec = trainer.Settings.Training;
        readonly ProcessGroup group = trainer.Settings.Group;
        readonly EpochSampler sampler = new(objective.DatasetSize, trainer.Settings.Training.BatchSize, DerivedSeed.Of(trainer.Settings.Seed, "batches"));
        readonly LearningRateSchedule schedule = LearningRateSchedule.From(trainer.Settings.Training);
        readonly TrainingProgress progress = TrainingProgress.For(trainer.Settings.Log, trainer.Settings.Label, trainer.Settings.Training.Steps);
        readonly Stopwatch clock = Stopwatch.StartNew();
        readonly Stopwatch windowClock = Stopwatch.StartNew();
        readonly StepWindow window = new(state.Window, trainer.Settings.Device);
        long windowStepsThisSession;

        public void TrainToTheEnd()
        {
            bool stopAgreed = false;   // data parallel: every rank stops after the same step
            progress.Run(state.Step, () =>
            {
                while (state.Step < spec.Steps)
                {
                    if (group.IsDistributed ? stopAgreed : trainer.Settings.Cancellation.IsCancellationRequested)
                    {
                        if (state.Step > 0 && lastCheckpoint != state.Step) Checkpoint();
                        throw new OperationCanceledException(trainer.Settings.Cancellation);
                    }
                    double lr = schedule.At(state.Step);
                    stopAgreed = trainer.TrainStep(objective, sampler, random, optimizer, ema, lr, state.Step, window);
                    state.Step++;
                    state.WindowSteps++;
                    windowStepsThisSession++;
                    progress.Step(state.Step);

                    bool log = state.Step % spec.LogEvery == 0 || state.Step == spec.Steps;
                    bool evaluate = trainer.Settings.Evaluate is not null &&
                                    ((trainer.Settings.EvaluateEvery > 0 && state.Step % trainer.Settings.EvaluateEvery == 0) || state.Step == spec.Steps);
                    bool checkpoint = (spec.CheckpointEvery > 0 && state.Step % spec.CheckpointEvery == 0) || state.Step == spec.Steps;
                    if (log || evaluate) Read();
                    if (log) Log(lr);
                    if (evaluate)
                    {
                        // Rank 0 samples and scores alone (its FID is a single process's at these weights); the others wait.
                        if (group.IsMain) trainer.Evaluate(objective.Module, ema, state.Step);
                        group.Barrier($"rank 0's evaluation at step {state.Step}");
                    }
                    if (checkpoint) Checkpoint();
                }
            });
        }

        /// <summary>The only host synchronisation of the loop: at log, evaluation and checkpoint steps, never inside a step.</summary>
        void Read()
        {
            window.Read(state.Window, out var bad);
            if (bad is var (step, values)) trainer.Fail(step, objective.Terms, values);
        }

        void Log(double lr)
        {
            double seconds = Math.Max(1e-9, windowClock.Elapsed.TotalSeconds);
            double stepsPerSecond = windowStepsThisSession / seconds;
            trainer.WriteLine(state, objective.Terms, lr, stepsPerSecond, stepsPerSecond * spec.BatchSize * objective.UnitsPerSample,
                objective.ThroughputUnit, clock.Elapsed.TotalSeconds, windowStepsThisSession, progress);
            Array.Clear(state.Window);
            window.Clear();
            state.WindowSteps = 0;
            windowStepsThisSession = 0;
            windowClock.Restart();
        }

        void Checkpoint()
        {
            Read();
            state.WallSeconds += clock.Elapsed.TotalSeconds;
            clock.Restart();
            // Every rank's global stream (masks not keyed by sample: libtorch's dropout on a GPU, attention dropout, drop path),
            // so that a resumed data-parallel run draws what an uninterrupted one would.
            using (var mine = torch.get_rng_state())
            {
                var randomStates = group.Gather(mine.bytes.ToArray(), $"the random states of step {state.Step}'s checkpoint");
                if (group.IsMain) trainer.Save(checkpoints, objective.Module, optimizer, ema, random, randomStates!, state);
            }
            lastCheckpoint = state.Step;
        }

        public void Dispose() => window.Dispose();
    }

    /// <summary>The running sums a checkpoint carries so that metrics after a resume equal an uninterrupted run's.</summary>
    sealed class LoopState(int columns)
    {
        public long Step;
        public double WallSeconds;
        public double[] Window = new double[columns];
        public long WindowSteps;
    }

    /// <summary>
    /// One optimizer step; with data parallel on this rank's shard, gradients and values averaged over the ranks before
    /// clipping, so every rank clips, steps and logs the same numbers. Nothing is read back to the host: the weighted
    /// total, every term and the gradient norm are added to <paramref name="window"/> on the device, which also remembers the first step whose values were not
    /// finite; <see cref="StepWindow.Read"/> reports it at the next log, evaluation or checkpoint step, before any
    /// weights are evaluated or saved.
    /// </summary>
    /// <returns>Data parallel: whether a rank was asked to stop (SIGTERM, SIGINT) during this step.</returns>
    bool TrainStep(ITrainingObjective objective, EpochSampler sampler, torch.Generator random,
        AdamW optimizer, ExponentialMovingAverage? ema, double lr, long step, StepWindow window)
    {
        using var scope = torch.NewDisposeScope();
        objective.Module.train();
        var group = Settings.Group;
        int parts = Settings.Training.GradientAccumulation;
        optimizer.ZeroGrad();
        Tensor? values = null;   // float64 [1 + T]: the weighted total and each term, averaged over the parts
        // The masks' key is a function of the seed and the step, never of a process's generator: every rank and micro-batch
        // keys the same masks by global sample, and a resumed run has it without a checkpointed state.
        var maskKey = (ulong)DerivedSeed.Of(Settings.Seed, "masks", step);
        using (var micro = objective.Forward(sampler.Indices(step), random, new BatchShare(group.Rank, group.Size, parts), maskKey).GetEnumerator())
            while (true)
            {
                // One part's activations are freed before the next is built.
                using var partScope = torch.NewDisposeScope();
                if (!micro.MoveNext()) break;
                var (total, losses) = micro.Current;
                if (losses.Count != window.Terms)
                    throw new InvalidOperationException($"The objective returned {losses.Count} loss values for {window.Terms} terms.");
                (parts == 1 ? total : total / parts).backward();
                var partValues = torch.cat(new[] { total }.Concat(losses).Select(l => l.detach().reshape(1).to(ScalarType.Float64)).ToArray());
                if (parts > 1) partValues = partValues / parts;
                values = (values is null ? partValues : values + partValues).MoveToOuterDisposeScope();
            }
        bool stop = false;
        if (group.IsDistributed)
        {
            long start = Stopwatch.GetTimestamp();
            stop = DataParallel.AverageGradients(group, optimizer.Parameters, Settings.Cancellation.IsCancellationRequested, $"the gradients of step {step + 1}");
            DataParallel.Average(group, values!, $"the losses of step {step + 1}");
            collectiveSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;   // CPU: the wait itself; NCCL: enqueueing only
        }
        var gradNorm = GradientClipping.Clip(optimizer.Parameters, Settings.Training.GradClip);   // [] on the device, not read here
        optimizer.Step(lr);
        ema?.Update(step);
        // [1 + T + 1]: the weighted total, each unweighted term, the gradient norm before clipping.
        window.Add(torch.cat([values!, gradNorm.detach().reshape(1).to(ScalarType.Float64)]), step + 1);
        return stop;
    }

    /// <param name="values">The weighted total, each term and the gradient norm of <paramref name="step"/>.</param>
    void Fail(long step, IReadOnlyList<LossTermInfo> terms, double[] values)
    {
        bool lossBad = values.Take(terms.Count + 1).Any(v => !double.IsFinite(v));
        var what = lossBad ? $"the loss became {Describe(values.Take(terms.Count + 1).First(v => !double.IsFinite(v)))}" : $"the gradient norm became {Describe(values[^1])}";
        var detail = string.Join(", ", terms.Select((t, i) => $"loss/{t.Name} = {values[i + 1].ToString("G5", CultureInfo.InvariantCulture)}"));
        var checkpoints = new CheckpointFolder(Path.Combine(Settings.Folder, RunLayout.CheckpointsFolder), Settings.Training.KeepCheckpoints).List();
        var kept = checkpoints.Count > 0
            ? $"the last good checkpoint (step {checkpoints[^1].Step}, {checkpoints[^1].Path}) is kept"
            : "no checkpoint had been written yet";
        throw new RunFailedException(
            $"{Settings.Label}: {what} at step {step} ({detail}); training stopped and {kept}. " +
            "Lower training.lr, raise training.warmup_steps or check the data.");
    }

    static string Describe(double v) => double.IsNaN(v) ? "NaN" : "infinite";

    void WriteLine(LoopState state, IReadOnlyList<LossTermInfo> terms, double lr, double stepsPerSecond, double rate, string unit,
        double sessionSeconds, long stepsThisSession, TrainingProgress progress)
    {
        double n = Math.Max(1, state.WindowSteps);
        var record = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in Settings.Tags) record[key] = value;
        record["step"] = state.Step;
        record["wall_s"] = Math.Round(state.WallSeconds + sessionSeconds, 3);
        record["lr"] = lr;
        record["loss"] = state.Window[Total] / n;
        for (int i = 0; i < terms.Count; i++) record[$"loss/{terms[i].Name}"] = state.Window[i + 1] / n;
        record["grad_norm"] = state.Window[^1] / n;
        record[$"{unit}_per_s"] = Math.Round(rate, 1);
        if (Settings.Group.IsDistributed)
        {
            // Rank 0's time in the step's collectives (gradients, losses, stop agreement): the cost of data parallel.
            record["collective_ms"] = Math.Round(1000 * collectiveSeconds / Math.Max(1, stepsThisSession), 3);
            collectiveSeconds = 0;
        }
        Settings.Metrics?.Append(record);

        var inv = CultureInfo.InvariantCulture;
        var termsText = string.Join(" ", terms.Select((t, i) => $"{t.Name} {(state.Window[i + 1] / n).ToString("F4", inv)}"));
        progress.Line(
            $"{Settings.Label} step {state.Step}/{Settings.Training.Steps}  loss {(state.Window[Total] / n).ToString("F4", inv)} ({termsText})  " +
            $"lr {lr.ToString("G3", inv)}  {stepsPerSecond.ToString("F1", inv)} it/s  {rate.ToString("N0", inv)} {unit}/s",
            $"loss {(state.Window[Total] / n).ToString("F4", inv)} · {stepsPerSecond.ToString("F1", inv)} it/s");
    }

    void Evaluate(nn.Module module, ExponentialMovingAverage? ema, long step)
    {
        using var rng = torch.get_rng_state();
        try
        {
            using var weights = ema?.SwapIn();
            module.eval();
            Settings.Evaluate!(step);
        }
        finally
        {
            torch.set_rng_state(rng);
            module.train();
        }
    }

    /// <param name="torchRandom">Every rank's global torch generator state, in rank order.</param>
    void Save(CheckpointFolder folder, nn.Module module, AdamW optimizer, ExponentialMovingAverage? ema, torch.Generator random,
        byte[][] torchRandom, LoopState state)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        tensors.AddRange(module.state_dict().Select(kv => new KeyValuePair<string, Tensor>(TrainingCheckpoint.ModelPrefix + kv.Key, kv.Value)));
        tensors.AddRange(optimizer.State().Select(kv => new KeyValuePair<string, Tensor>(TrainingCheckpoint.OptimizerPrefix + kv.Key, kv.Value)));
        if (ema is not null)
            tensors.AddRange(ema.State().Select(kv => new KeyValuePair<string, Tensor>(TrainingCheckpoint.EmaPrefix + kv.Key, kv.Value)));
        tensors.Add(new(TrainingCheckpoint.TrainerRandom, random.get_state()));
        for (int rank = 0; rank < torchRandom.Length; rank++)
            tensors.Add(new(TrainingCheckpoint.TorchRandomOf(rank), torch.tensor(torchRandom[rank], ScalarType.Byte)));
        tensors.Add(new(TrainingCheckpoint.Window, torch.tensor(state.Window, ScalarType.Float64)));
        var metadata = Identity(state.Step);
        metadata[TrainingCheckpoint.Keys.Format] = TrainingCheckpoint.Format;
        metadata[TrainingCheckpoint.Keys.WallSeconds] = state.WallSeconds.ToString("R", CultureInfo.InvariantCulture);
        metadata[TrainingCheckpoint.Keys.WindowSteps] = state.WindowSteps.ToString(CultureInfo.InvariantCulture);
        folder.Write(state.Step, tensors, metadata);
    }

    void Restore(string path, nn.Module module, AdamW optimizer, ExponentialMovingAverage? ema, torch.Generator random, LoopState state)
    {
        var file = SafeTensorsFile.Open(path);
        TrainingCheckpoint.CheckBelongsTo(file, TrainingCheckpoint.Format, Settings.Config, Settings.Permutation, Settings.Tokenizer);
        var meta = file.Metadata;
        long step = ParseLong(meta, TrainingCheckpoint.Keys.Step, path);
        var tensors = file.LoadAll();
        try
        {
            StateDict.Load(module, WithPrefix(tensors, TrainingCheckpoint.ModelPrefix), path, Settings.Label);
            optimizer.Load(WithPrefix(tensors, TrainingCheckpoint.OptimizerPrefix), step, path);
            ema?.Load(WithPrefix(tensors, TrainingCheckpoint.EmaPrefix), path);
            random.set_state(Require(tensors, TrainingCheckpoint.TrainerRandom, path));
            var group = Settings.Group;
            if (group.Rank == 0 || tensors.ContainsKey(TrainingCheckpoint.TorchRandomOf(group.Rank)))
                torch.set_rng_state(Require(tensors, TrainingCheckpoint.TorchRandomOf(group.Rank), path));
            else   // written by fewer ranks: this rank's dropout stream starts afresh (not bit-identical, nor can it be)
                torch.manual_seed(DerivedSeed.Of(Settings.Seed, $"torch/resumed-at-{step}", group.Rank));
            var window = Require(tensors, TrainingCheckpoint.Window, path);
            if (window.NumberOfElements != state.Window.Length)
                throw new InvalidDataException($"Checkpoint {path} logs {window.NumberOfElements - 2} loss terms; this job has {state.Window.Length - 2}.");
            state.Window = HostRead.Doubles(window);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        state.Step = step;
        state.WindowSteps = ParseLong(meta, TrainingCheckpoint.Keys.WindowSteps, path);
        state.WallSeconds = double.Parse(meta.GetValueOrDefault(TrainingCheckpoint.Keys.WallSeconds, "0"), CultureInfo.InvariantCulture);
    }

    void WriteWeights(nn.Module module, ExponentialMovingAverage? ema, long step)
    {
        // The EMA weights become the module's for good: they are what is exported, evaluated and encoded with.
        ema?.ApplyTo();
        var metadata = Identity(step);
        metadata[TrainingCheckpoint.Keys.Format] = WeightsFormat;
        try
        {
            StateDict.Save(module, Settings.WeightsFile, metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Cannot write {Settings.WeightsFile}: {e.Message}; the final checkpoint in {Settings.Folder} is kept and a rerun writes it.", e);
        }
    }

    void LoadFinishedWeights(nn.Module module)
    {
        var file = SafeTensorsFile.Open(Settings.WeightsFile);
        TrainingCheckpoint.CheckBelongsTo(file, WeightsFormat, Settings.Config, Settings.Permutation, Settings.Tokenizer);
        StateDict.Load(module, Settings.WeightsFile, Settings.Label);
    }

    Dictionary<string, string> Identity(long step)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [TrainingCheckpoint.Keys.Stage] = Settings.Tags.TryGetValue("stage", out var stage) ? stage.ToString() ?? "" : "",
            [TrainingCheckpoint.Keys.Step] = step.ToString(CultureInfo.InvariantCulture),
            [TrainingCheckpoint.Keys.Config] = Settings.Config,
            [TrainingCheckpoint.Keys.Permutation] = Settings.Permutation,
            [TrainingCheckpoint.Keys.Ema] = Settings.Training.Ema.ToString("R", CultureInfo.InvariantCulture),
        };
        if (Settings.Tokenizer is not null) metadata[TrainingCheckpoint.Keys.Tokenizer] = Settings.Tokenizer;
        return metadata;
    }

    /// <summary>Whether a metrics record is this job's: same stage, arm and seed; for a generator also its evaluation lines.</summary>
    bool Owns(JsonElement record)
    {
        foreach (var (key, value) in Settings.Tags)
        {
            if (!record.TryGetProperty(key, out var field)) return false;
            if (field.GetRawText() == JsonSerializer.Serialize(value)) continue;
            bool evaluationOfThisArm = key == "stage" && Settings.Tags.ContainsKey("arm") && field.ValueKind == JsonValueKind.String && field.GetString() == "eval";
            if (!evaluationOfThisArm) return false;
        }
        return true;
    }

    void CreateFolder(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{Settings.Label}: cannot create its folder {path}: {e.Message}", e);
        }
    }

    static Dictionary<string, Tensor> WithPrefix(Dictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);

    static Tensor Require(Dictionary<string, Tensor> tensors, string name, string path) =>
        tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"Checkpoint {path} lacks {name}; it is damaged or not a training checkpoint.");

    static long ParseLong(IReadOnlyDictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new InvalidDataException($"Checkpoint {path} has no valid {key}.");
}

/// <summary>What a <see cref="Trainer"/> run did.</summary>
/// <param name="Steps">The step reached (the spec's total).</param>
/// <param name="ResumedFrom">The checkpoint step training resumed from, or null for a fresh start.</param>
/// <param name="WeightsFile">The final weights (EMA weights when EMA is on).</param>
/// <param name="AlreadyComplete">True when the job had finished before and nothing was trained.</param>
public sealed record TrainingOutcome(long Steps, long? ResumedFrom, string WeightsFile, bool AlreadyComplete);

/// <summary>
/// The running sums between two log lines, kept on the training device so that a step never waits for the host:
/// float64 [columns] (weighted total, each term, gradient norm), plus the first step whose values were not finite and
/// those values. Summed in the same order as on the host, so the logged means are the same numbers.
/// </summary>
internal sealed class StepWindow : IDisposable
{
    readonly Tensor sums, firstBad, badValues;

    public StepWindow(double[] initial, Device device)
    {
        sums = torch.tensor(initial, ScalarType.Float64).to(device);
        firstBad = torch.tensor(-1L).to(device);
        badValues = torch.zeros(initial.Length, ScalarType.Float64, device);
    }

    /// <summary>Loss terms per step (the columns less the total and the gradient norm).</summary>
    public int Terms => (int)sums.shape[0] - 2;

    /// <param name="values">float64 [columns] of one step.</param>
    public void Add(Tensor values, long step)
    {
        sums.add_(values);
        using var scope = torch.NewDisposeScope();
        var first = values.isfinite().all().logical_not().logical_and(firstBad.lt(0));   // bool scalar
        firstBad.masked_fill_(first, step);   // a scalar argument, not a tensor copied to the device (on CUDA a blocking copy)
        badValues.copy_(torch.where(first, values, badValues));
    }

    /// <summary>Copies the sums into <paramref name="window"/>; <paramref name="bad"/> is the first non-finite step, if any.</summary>
    public void Read(double[] window, out (long Step, double[] Values)? bad)
    {
        using var scope = torch.NewDisposeScope();
        var host = HostRead.Doubles(torch.cat([sums, badValues, firstBad.to(ScalarType.Float64).reshape(1)]));
        Array.Copy(host, window, window.Length);
        bad = host[^1] >= 0 ? ((long)host[^1], host[window.Length..^1]) : null;
    }

    public void Clear() => sums.zero_();

    public void Dispose()
    {
        sums.Dispose();
        firstBad.Dispose();
        badValues.Dispose();
    }
}
