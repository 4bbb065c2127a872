using System.Text;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Serialization;

/// <summary>Event files read back record by record: framing, both CRCs (against published check values), tags and steps.</summary>
public class TensorBoardEventsTests
{
    [Fact]
    public void Both_crcs_give_their_published_check_values()
    {
        var check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE3069283u, Crc32.Castagnoli.Compute(check));   // CRC-32C (iSCSI) check value
        Assert.Equal(0xCBF43926u, Crc32.Zip.Compute(check));          // CRC-32 (zip) check value
        Assert.Equal(Crc32.Zip.Compute(check), Crc32.Zip.Append(Crc32.Zip.Compute(check.AsSpan(0, 4)), check.AsSpan(4)));
    }

    [Fact]
    public void Scalars_and_an_image_read_back_with_their_tags_steps_and_values_after_the_version_record()
    {
        using var dir = new TempDir();
        var events = new TensorBoardEvents(dir.File("tb"));
        events.Scalars(10, [new("generator/loss", 2.5), new("generator/lr", 1e-4)]);
        events.Scalars(20, [new("generator/loss", 1.25)]);
        var png = new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3 };
        events.Image(20, "samples/grid", png, 4, 6);

        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(events.FilePath));
        var read = TensorBoardEvents.Read(events.FilePath);
        Assert.Equal(TensorBoardEvents.FileVersion, read[0].FileVersion);
        Assert.Equal(
            [("generator/loss", 10L, 2.5f), ("generator/lr", 10L, 1e-4f), ("generator/loss", 20L, 1.25f)],
            read.Skip(1).Take(3).Select(e => (e.Tag!, e.Step, e.Value)));
        Assert.Equal("samples/grid", read[4].Tag);
        Assert.Equal(png, read[4].Image);
        Assert.InRange(read[1].WallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
    }

    [Fact]
    public void A_flipped_byte_fails_the_crc_of_its_record()
    {
        using var dir = new TempDir();
        var events = new TensorBoardEvents(dir.File("tb"));
        events.Scalars(1, [new("a", 1)]);
        var bytes = File.ReadAllBytes(events.FilePath);
        bytes[^6] ^= 0x01;   // inside the last record's data
        File.WriteAllBytes(events.FilePath, bytes);
        var e = Assert.Throws<InvalidDataException>(() => TensorBoardEvents.Read(events.FilePath));
        Assert.Contains("data CRC", e.Message);
    }

    [Fact]
    public void Every_numeric_value_metrics_log_appends_becomes_a_scalar_under_its_arm_and_seed()
    {
        using var dir = new TempDir();
        var log = new MetricsLog(dir.File("metrics.jsonl"));
        log.Append(new Dictionary<string, object?> { ["stage"] = "tokenizer", ["seed"] = 1, ["step"] = 20L, ["loss"] = 0.5 });
        log.Append(new Dictionary<string, object?> { ["stage"] = "generator", ["arm"] = "iar", ["seed"] = 1, ["step"] = 40L, ["loss"] = 2.0, ["loss/cluster_ce"] = 0.75, ["note"] = "text" });
        log.Append(new Dictionary<string, object?> { ["stage"] = "eval", ["arm"] = "iar", ["seed"] = 1, ["step"] = 40L, ["fid"] = 12.5 });

        var tokenizer = TensorBoardEvents.Read(Assert.Single(Directory.GetFiles(dir.File("tensorboard/tokenizer/seed-1"))));
        Assert.Equal(("tokenizer/loss", 20L, 0.5f), (tokenizer[1].Tag!, tokenizer[1].Step, tokenizer[1].Value));
        var arm = TensorBoardEvents.Read(Assert.Single(Directory.GetFiles(dir.File("tensorboard/iar/seed-1"))));
        Assert.Equal(["generator/loss", "generator/loss/cluster_ce", "eval/fid"], arm.Skip(1).Select(e => e.Tag!));
        Assert.All(arm.Skip(1), e => Assert.Equal(40L, e.Step));
        Assert.Equal(3, log.ReadAll().Count);
    }
}
