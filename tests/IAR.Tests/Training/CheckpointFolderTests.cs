using IAR.Host.Serialization;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Training;

/// <summary>
/// The checkpoint folder and the checkpoint's identity checks without a trainer: rotation keeps exactly the newest
/// <c>keep</c>, listing orders by the recorded step (not the name) and skips what is not a checkpoint with a warning,
/// and a checkpoint of another configuration, permutation or tokenizer is refused naming the difference.
/// </summary>
public class CheckpointFolderTests
{
    static string Write(CheckpointFolder folder, long step)
    {
        using var t = torch.full(1, (float)step);
        return folder.Write(step, [new("x", t)], new Dictionary<string, string> { [TrainingCheckpoint.Keys.Step] = step.ToString() });
    }

    [Fact]
    public void Rotation_keeps_the_newest_and_listing_orders_by_recorded_step()
    {
        using var dir = new TempDir();
        var folder = new CheckpointFolder(dir.File("ckpt"), keep: 2);
        Assert.Equal("step-00000007.safetensors", Path.GetFileName(Write(folder, 7)));
        Write(folder, 3);      // older than the newest: kept (keep 2), nothing else to drop
        Write(folder, 12);     // drops 3
        Assert.Equal([7L, 12L], folder.List().Select(c => c.Step));
        Write(folder, 20);
        Assert.Equal([12L, 20L], folder.List().Select(c => c.Step));
        Assert.EndsWith("step-00000020.safetensors", folder.Latest());
        Assert.Equal(1, new CheckpointFolder(dir.File("one"), keep: 0).Keep);
        var one = new CheckpointFolder(dir.File("one"), keep: 0);
        Write(one, 1);
        Write(one, 2);
        Assert.Equal([2L], one.List().Select(c => c.Step));
        // Rewriting the newest step keeps the one before it.
        Write(folder, 20);
        Assert.Equal([12L, 20L], folder.List().Select(c => c.Step));
    }

    [Fact]
    public void Files_that_are_not_checkpoints_are_skipped_with_a_warning_and_temp_files_removed()
    {
        using var dir = new TempDir();
        var folder = new CheckpointFolder(dir.File("ckpt"), keep: 5);
        Assert.Empty(folder.List());
        Assert.Null(folder.Latest());
        folder.RemoveStaleTempFiles();   // no folder yet: nothing to do
        Write(folder, 5);
        using (var t = torch.zeros(1)) SafeTensorsWriter.Write(Path.Combine(folder.Path, "other.safetensors"), new Dictionary<string, Tensor> { ["x"] = t });
        File.WriteAllBytes(Path.Combine(folder.Path, "broken.safetensors"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder.Path, ".hidden.safetensors"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder.Path, ".step.tmp"), [1]);
        File.WriteAllBytes(Path.Combine(folder.Path, "keep.tmp"), [1]);
        var warnings = new List<string>();
        Assert.Equal([5L], folder.List(warnings.Add).Select(c => c.Step));
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("other.safetensors is not a training checkpoint (no iar.step)"));
        Assert.Contains(warnings, w => w.Contains("broken.safetensors") && w.EndsWith("It is ignored."));
        folder.RemoveStaleTempFiles();
        Assert.False(File.Exists(Path.Combine(folder.Path, ".step.tmp")));
        Assert.True(File.Exists(Path.Combine(folder.Path, "keep.tmp")));

        var unreadable = new CheckpointFolder(dir.File("bad"), keep: 1);
        Directory.CreateDirectory(unreadable.Path);
        File.WriteAllBytes(Path.Combine(unreadable.Path, "step-00000001.safetensors"), [1, 2, 3]);
        Assert.Contains("No checkpoint in", Assert.Throws<InvalidDataException>(() => unreadable.Latest()).Message);
        var hiddenOnly = new CheckpointFolder(dir.File("hidden"), keep: 1);
        Directory.CreateDirectory(hiddenOnly.Path);
        File.WriteAllBytes(Path.Combine(hiddenOnly.Path, ".x.safetensors"), [1]);
        Assert.Null(hiddenOnly.Latest());
    }

    [Fact]
    public void A_checkpoint_of_another_format_config_permutation_or_tokenizer_is_refused_naming_it()
    {
        using var dir = new TempDir();
        var meta = new Dictionary<string, string>
        {
            [TrainingCheckpoint.Keys.Format] = TrainingCheckpoint.Format,
            [TrainingCheckpoint.Keys.Config] = "a: 1\nb: 2\n",
            [TrainingCheckpoint.Keys.Permutation] = "0123",
            [TrainingCheckpoint.Keys.Tokenizer] = "tok-1",
        };
        var path = dir.File("c.safetensors");
        using (var t = torch.zeros(1)) SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = t }, meta);
        var file = SafeTensorsFile.Open(path);
        TrainingCheckpoint.CheckBelongsTo(file, TrainingCheckpoint.Format, "a: 1\nb: 2\n", "0123", "tok-1");
        TrainingCheckpoint.CheckBelongsTo(file, TrainingCheckpoint.Format, "a: 1\nb: 2\n", "0123", null);
        string Refused(string format, string config, string permutation, string? tokenizer) =>
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.CheckBelongsTo(file, format, config, permutation, tokenizer)).Message;
        Assert.Contains("(iar.format is 'iar-checkpoint/1', expected 'other/1')", Refused("other/1", "a: 1\nb: 2\n", "0123", null));
        Assert.Contains("the checkpoint has 'b: 2' where this job has 'b: 3'", Refused(TrainingCheckpoint.Format, "a: 1\nb: 3\n", "0123", null));
        Assert.Contains("the checkpoint has '' where this job has 'c: 4'", Refused(TrainingCheckpoint.Format, "a: 1\nb: 2\nc: 4\n", "0123", null));
        Assert.Contains("permutation 0123, but this job uses identity", Refused(TrainingCheckpoint.Format, "a: 1\nb: 2\n", "identity", null));
        Assert.Contains("tokenizer tok-1, but this run's tokenizer is tok-2", Refused(TrainingCheckpoint.Format, "a: 1\nb: 2\n", "0123", "tok-2"));
        // a configuration that ends early on one side names the end
        Assert.Contains("the checkpoint has '(end)' where this job has 'c: 4'", Refused(TrainingCheckpoint.Format, "a: 1\nb: 2\n\nc: 4", "0123", null));
        Assert.Contains("the checkpoint has '' where this job has '(end)'", Refused(TrainingCheckpoint.Format, "a: 1\nb: 2", "0123", null));
        Assert.Equal("rng.torch", TrainingCheckpoint.TorchRandomOf(0));
        Assert.Equal("rng.torch.rank-3", TrainingCheckpoint.TorchRandomOf(3));

        // a file without the format, configuration or permutation entries names what is absent
        var bare = dir.File("bare.safetensors");
        using (var t = torch.zeros(1)) SafeTensorsWriter.Write(bare, new Dictionary<string, Tensor> { ["x"] = t }, new Dictionary<string, string>());
        var bareFile = SafeTensorsFile.Open(bare);
        Assert.Equal($"{bare} is not a file of this trainer (iar.format is 'absent', expected '{TrainingCheckpoint.Format}').",
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.CheckBelongsTo(bareFile, TrainingCheckpoint.Format, "a: 1", "0123", null)).Message);
        var formatOnly = dir.File("format-only.safetensors");
        using (var t = torch.zeros(1))
            SafeTensorsWriter.Write(formatOnly, new Dictionary<string, Tensor> { ["x"] = t },
                new Dictionary<string, string> { [TrainingCheckpoint.Keys.Format] = TrainingCheckpoint.Format, [TrainingCheckpoint.Keys.Config] = "a: 1" });
        Assert.Contains("permutation absent, but this job uses 0123",
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.CheckBelongsTo(SafeTensorsFile.Open(formatOnly), TrainingCheckpoint.Format, "a: 1", "0123", null)).Message);
    }

    [Fact]
    public void A_checkpoint_that_cannot_be_written_is_one_io_error_naming_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("taken"), "a file where the folder would go");
        var folder = new CheckpointFolder(Path.Combine(dir.File("taken"), "ckpt"), keep: 2);
        var error = Assert.Throws<IOException>(() => Write(folder, 4));
        Assert.StartsWith($"Cannot write checkpoint {Path.Combine(folder.Path, "step-00000004.safetensors")}: ", error.Message);
    }
}
