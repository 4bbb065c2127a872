using IAR.Abstractions;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Host.Training;
using TorchSharp;

namespace IAR.Tests.Training;

public class TrainerFailureTests
{
    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "infinite")]
    public void A_diverging_loss_stops_the_run_naming_the_step_and_keeping_the_last_good_checkpoint(double value, string word)
    {
        using var setup = new TinyGeneratorSetup();
        var settings = setup.Settings("job", TinyGeneratorSetup.Spec() with { CheckpointEvery = 4 });
        var e = Assert.Throws<RunFailedException>(() =>
            new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator(), new WeightedTerm(new DivergingTerm(at: 10, value), 1))));
        Assert.Contains($"the loss became {word} at step 10", e.Message);
        Assert.Contains($"loss/diverging = {(double.IsNaN(value) ? "NaN" : "Infinity")}", e.Message);
        Assert.Contains("the last good checkpoint (step 8", e.Message);
        Assert.Contains("training.lr", e.Message);
        Assert.False(File.Exists(settings.WeightsFile));
        var checkpoints = new CheckpointFolder(Path.Combine(settings.Folder, "checkpoints"), 10).List();
        Assert.Equal([4L, 8L], checkpoints.Select(c => c.Step));
        var kept = SafeTensorsFile.Open(checkpoints[^1].Path).LoadAll();
        Assert.True(kept.Values.Where(t => t.dtype == torch.float32).All(t => t.isfinite().all().item<bool>()), "the kept checkpoint holds finite weights");

        // resuming without the divergence continues from the kept checkpoint
        var outcome = new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator(), new WeightedTerm(new DivergingTerm(at: -1, 0), 1)));
        Assert.Equal(8, outcome.ResumedFrom);
    }

    [Fact]
    public void A_checkpoint_of_another_configuration_permutation_or_tokenizer_is_refused()
    {
        using var setup = new TinyGeneratorSetup();
        var spec = TinyGeneratorSetup.Spec(steps: 10);
        var settings = setup.Settings("job", spec) with { Config = "training:\n  lr: 0.05\n  steps: 10\n" };
        Assert.Throws<OperationCanceledException>(() => new Trainer(settings with { Cancellation = new CancellationToken(true) })
            .Run(setup.Objective(TinyGeneratorSetup.Generator())));
        Assert.Empty(new CheckpointFolder(Path.Combine(settings.Folder, "checkpoints"), 10).List());   // nothing to save before step 1
        var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new Trainer(settings with
        {
            Cancellation = cts.Token, EvaluateEvery = 1, Evaluate = s => { if (s == 7) cts.Cancel(); },
        }).Run(setup.Objective(TinyGeneratorSetup.Generator())));

        var config = Assert.Throws<InvalidDataException>(() =>
            new Trainer(settings with { Config = "training:\n  lr: 0.02\n  steps: 10\n" }).Run(setup.Objective(TinyGeneratorSetup.Generator())));
        Assert.Contains("was written for a different configuration (the checkpoint has 'lr: 0.05' where this job has 'lr: 0.02')", config.Message);
        Assert.Contains("--fresh", config.Message);

        var permutation = Assert.Throws<InvalidDataException>(() =>
            new Trainer(settings with { Permutation = "89abcdef01234567" }).Run(setup.Objective(TinyGeneratorSetup.Generator())));
        Assert.Contains("permutation identity, but this job uses 89abcdef01234567", permutation.Message);

        var tokenizer = Assert.Throws<InvalidDataException>(() =>
            new Trainer(settings with { Tokenizer = "another-tokenizer" }).Run(setup.Objective(TinyGeneratorSetup.Generator())));
        Assert.Contains("tokens of tokenizer tokenizer-hash, but this run's tokenizer is another-tokenizer", tokenizer.Message);

        // nothing was touched: the right job still resumes from step 7
        Assert.Equal(7, new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator())).ResumedFrom);
    }

    [Fact]
    public void An_unwritable_job_folder_fails_before_training_with_the_path()
    {
        using var setup = new TinyGeneratorSetup();
        File.WriteAllText(setup.Dir.File("occupied"), "a file where the job folder should be");
        var settings = setup.Settings("occupied", TinyGeneratorSetup.Spec());
        var e = Assert.Throws<IOException>(() => new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator())));
        Assert.Contains("cannot create its folder", e.Message);
        Assert.Contains("occupied", e.Message);
    }

    [Fact]
    public void A_damaged_newest_checkpoint_is_skipped_for_the_previous_one()
    {
        using var setup = new TinyGeneratorSetup();
        var spec = TinyGeneratorSetup.Spec(steps: 20);
        var reference = setup.Settings("reference", spec);
        new Trainer(reference).Run(setup.Objective(TinyGeneratorSetup.Generator()));

        var settings = setup.Settings("job", spec);
        var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new Trainer(settings with
        {
            Cancellation = cts.Token, EvaluateEvery = 1, Evaluate = s => { if (s == 15) cts.Cancel(); },
        }).Run(setup.Objective(TinyGeneratorSetup.Generator())));
        var folder = new CheckpointFolder(Path.Combine(settings.Folder, "checkpoints"), 10);
        var newest = folder.List()[^1];
        Assert.Equal(15, newest.Step);
        File.WriteAllBytes(newest.Path, File.ReadAllBytes(newest.Path)[..100]);
        var warnings = new List<string>();
        folder.List(warnings.Add);
        Assert.Contains(warnings, w => w.Contains("step-00000015"));

        var outcome = new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator()));
        Assert.Equal(14, outcome.ResumedFrom);
        var expected = SafeTensorsFile.Open(reference.WeightsFile).LoadAll();
        foreach (var (key, tensor) in SafeTensorsFile.Open(settings.WeightsFile).LoadAll())
            IAR.ContractTests.TensorAssert.Identical(expected[key], tensor, key);

        foreach (var (_, path) in folder.List()) File.WriteAllBytes(path, [1, 2, 3]);
        File.Delete(settings.WeightsFile);
        Assert.Contains("No checkpoint in", Assert.Throws<InvalidDataException>(() =>
            new Trainer(settings).Run(setup.Objective(TinyGeneratorSetup.Generator()))).Message);
    }
}
