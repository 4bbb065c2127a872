using IAR.Host.Runs;
using System.Text;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Serialization;

/// <summary>Event files read back record by record: framing, both CRCs (against published check values), tags and steps.</summary>
public class TensorBoardEventsTests
{
    [Fact]
    public void Every_record_is_framed_with_masked_crc32c_as_libtorch_computes_it()
    {
        // libtorch's CRC-32C (through TorchSharp) is an implementation independent of the one the writer uses.
        Assert.Equal(0xE3069283u, TorchSharp.Utils.CRC32C.process(Encoding.ASCII.GetBytes("123456789")));   // published check value
        using var dir = new TempDir();
        var events = new TensorBoardEvents(dir.File("tb"));
        events.Scalars(3, [new("a", 1.5)]);
        events.Image(4, "g", [1, 2, 3], 1, 1);
        var bytes = File.ReadAllBytes(events.FilePath);
        int records = 0;
        for (int at = 0; at < bytes.Length; records++)
        {
            var header = bytes[at..(at + 8)];
            int length = checked((int)BitConverter.ToUInt64(header));
            var body = bytes[(at + 12)..(at + 12 + length)];
            Assert.Equal(TensorBoardEvents.Masked(TorchSharp.Utils.CRC32C.process(header)), BitConverter.ToUInt32(bytes, at + 8));
            Assert.Equal(TensorBoardEvents.Masked(TorchSharp.Utils.CRC32C.process(body)), BitConverter.ToUInt32(bytes, at + 12 + length));
            at += 16 + length;
        }
        Assert.Equal(3, records);   // file_version, the scalar, the image
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
    public void A_step_0_event_which_proto3_writes_without_its_step_reads_back_at_step_0()
    {
        using var dir = new TempDir();
        var events = new TensorBoardEvents(dir.File("tb"));
        events.Scalars(0, [new("a", 0.0)]);
        events.Scalars(-3, [new("b", double.NaN)]);
        var read = TensorBoardEvents.Read(events.FilePath);
        Assert.Equal([("a", 0L), ("b", -3L)], read.Skip(1).Select(e => (e.Tag!, e.Step)));
        Assert.True(float.IsNaN(read[2].Value));
        // simple_value 0 is still written (a oneof member is, even at its default), else TensorBoard would see no value.
        // (byte[], not span: TorchSharp's generated messages predate span parsing.)
        var bytes = File.ReadAllBytes(events.FilePath);
        int second = 16 + checked((int)BitConverter.ToUInt64(bytes));
        var body = bytes.AsSpan(second + 12, checked((int)BitConverter.ToUInt64(bytes, second)));
        var value = Assert.Single(Tensorboard.Event.Parser.ParseFrom(body.ToArray()).Summary.Value);
        Assert.Equal(Tensorboard.Summary.Types.Value.ValueOneofCase.SimpleValue, value.ValueCase);
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

    /// <summary>One TFRecord around <paramref name="body"/>, both CRCs right, the length field as given.</summary>
    static byte[] Record(byte[] body, ulong? declared = null)
    {
        var header = BitConverter.GetBytes(declared ?? (ulong)body.Length);
        return [.. header, .. BitConverter.GetBytes(TensorBoardEvents.Masked(TorchSharp.Utils.CRC32C.process(header))),
            .. body, .. BitConverter.GetBytes(TensorBoardEvents.Masked(TorchSharp.Utils.CRC32C.process(body)))];
    }

    [Theory]
    [InlineData(1UL << 62)]          // past any array (the old reader cast it to a negative int)
    [InlineData(0x7FFF_FFF0UL)]      // an array's size, but not in the file
    [InlineData(5UL)]                // one byte more than the file holds
    public void A_record_declaring_more_bytes_than_the_file_has_left_is_refused_naming_its_offset(ulong declared)
    {
        using var dir = new TempDir();
        var path = dir.File("events");
        File.WriteAllBytes(path, Record([8, 1, 8, 2], declared));
        var e = Assert.Throws<InvalidDataException>(() => TensorBoardEvents.Read(path));
        Assert.Contains("record at byte 0 declares", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x10 })]                          // step's key, then the end: a varint cut short
    [InlineData(new byte[] { 0x2A, 0xFF, 0xFF, 0xFF, 0x0F })]  // summary of 4 GiB - 1 (the old reader read past the end)
    [InlineData(new byte[] { 0x09, 1, 2 })]                    // wall_time's 8 bytes cut to 2
    [InlineData(new byte[] { 0x0F })]                          // wire type 7
    public void A_record_whose_body_is_not_an_event_protobuf_is_one_error_naming_its_offset(byte[] body)
    {
        using var dir = new TempDir();
        var path = dir.File("events");
        File.WriteAllBytes(path, Record(body));
        var e = Assert.Throws<InvalidDataException>(() => TensorBoardEvents.Read(path));
        Assert.Contains("record at byte 0 is not a tensorflow.Event protobuf", e.Message);
    }

    [Fact]
    public void Events_past_the_load_budget_are_refused_before_more_are_kept()
    {
        using var dir = new TempDir();
        var path = dir.File("events");
        // 1,000 empty summary values (2 bytes each) are 1,000 events of 64 bytes each: more than a 32 KiB budget.
        var values = Enumerable.Repeat(new byte[] { 0x0A, 0x00 }, 1000).SelectMany(v => v).ToArray();
        File.WriteAllBytes(path, Record([0x2A, .. Varint((ulong)values.Length), .. values]));
        var e = Assert.Throws<InvalidDataException>(() => TensorBoardEvents.Read(path, LoadBudget.Fixed(path, 32 << 10)));
        Assert.Contains("past the budget", e.Message);
        Assert.Equal(1000, TensorBoardEvents.Read(path, LoadBudget.Fixed(path, 128 << 10)).Count);
    }

    static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        for (; v >= 0x80; v >>= 7) bytes.Add((byte)(v | 0x80));
        bytes.Add((byte)v);
        return [.. bytes];
    }
}
