using IAR.Host.Serialization;

namespace IAR.Host.Training;

/// <summary>
/// What a training checkpoint holds (see host/Training/README.md): tensors <c>model.*</c> (the state dict),
/// <c>optimizer.exp_avg.*</c> / <c>optimizer.exp_avg_sq.*</c>, <c>ema.*</c>, <c>rng.trainer</c>, <c>rng.torch</c> (and <c>rng.torch.rank-N</c> of data-parallel ranks)
/// and <c>trainer.window</c>, and metadata strings naming the step, the job's configuration and the permutation
/// and tokenizer its data was encoded with. A checkpoint is only ever resumed by the job that wrote it.
/// </summary>
public static class TrainingCheckpoint
{
    public const string Format = "iar-checkpoint/1";

    public static class Keys
    {
        public const string Format = "iar.format";
        public const string Stage = "iar.stage";
        public const string Step = "iar.step";
        public const string Config = "iar.config";
        public const string Permutation = "iar.permutation";
        public const string Tokenizer = "iar.tokenizer";
        public const string WallSeconds = "iar.wall_s";
        public const string WindowSteps = "iar.window_steps";
        public const string Ema = "iar.ema";
    }

    public const string ModelPrefix = "model.";
    public const string OptimizerPrefix = "optimizer.";
    public const string EmaPrefix = "ema.";
    public const string TrainerRandom = "rng.trainer";
    public const string TorchRandom = "rng.torch";

    /// <summary>The global torch generator of data-parallel rank <paramref name="rank"/> (rank 0's is <see cref="TorchRandom"/>).</summary>
    public static string TorchRandomOf(int rank) => rank == 0 ? TorchRandom : $"{TorchRandom}.rank-{rank}";
    public const string Window = "trainer.window";

    /// <summary>Refuses a checkpoint (or final weights file) written by another job: another format, configuration, permutation or tokenizer.</summary>
    /// <param name="expectedFormat"><see cref="Format"/>, or <see cref="Trainer.WeightsFormat"/> for final weights.</param>
    /// <exception cref="InvalidDataException">One sentence naming the file and the first difference.</exception>
    public static void CheckBelongsTo(SafeTensorsFile file, string expectedFormat, string config, string permutation, string? tokenizer)
    {
        var meta = file.Metadata;
        var path = file.FilePath;
        if (!meta.TryGetValue(Keys.Format, out var format) || format != expectedFormat)
            throw new InvalidDataException($"{path} is not a file of this trainer ({Keys.Format} is '{format ?? "absent"}', expected '{expectedFormat}').");
        if (!meta.TryGetValue(Keys.Config, out var written) || written != config)
            throw new InvalidDataException(
                $"Checkpoint {path} was written for a different configuration ({FirstDifference(written ?? "", config)}); " +
                "it belongs to another run: start over with --fresh or resume that run's own directory.");
        var theirs = meta.GetValueOrDefault(Keys.Permutation, "absent");
        if (theirs != permutation)
            throw new InvalidDataException(
                $"Checkpoint {path} was trained on tokens numbered by permutation {theirs}, but this job uses {permutation}; " +
                "its vocabulary rows would mean other codes: start over with --fresh.");
        if (tokenizer is not null && meta.GetValueOrDefault(Keys.Tokenizer) is { } theirTokenizer && theirTokenizer != tokenizer)
            throw new InvalidDataException(
                $"Checkpoint {path} was trained on tokens of tokenizer {theirTokenizer}, but this run's tokenizer is {tokenizer}: start over with --fresh.");
    }

    /// <summary>"checkpoint has 'lr: 0.001' where this job has 'lr: 0.002'" for the first differing line.</summary>
    static string FirstDifference(string theirs, string ours)
    {
        var a = theirs.Split('\n');
        var b = ours.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i].Trim() : "(end)";
            var y = i < b.Length ? b[i].Trim() : "(end)";
            if (x != y) return $"the checkpoint has '{x}' where this job has '{y}'";
        }
        return "the texts differ";
    }
}
