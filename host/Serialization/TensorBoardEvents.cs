using System.Buffers.Binary;
using System.IO.Hashing;
using Google.Protobuf;
using Tensorboard;

namespace IAR.Host.Serialization;

/// <summary>One scalar or image read back from an event file.</summary>
/// <param name="Image">PNG bytes for an image summary, else null (then <paramref name="Value"/> holds the scalar).</param>
public sealed record TensorBoardEvent(double WallTime, long Step, string? FileVersion, string? Tag, float Value, byte[]? Image);

/// <summary>
/// TensorBoard event files written without TensorFlow: TFRecord framing (uint64 length, masked CRC-32C of the length,
/// the bytes, masked CRC-32C of the bytes) around <c>tensorflow.Event</c> protobufs (wall_time, step, file_version or
/// summary { value { tag, simple_value | image } }). The messages are TorchSharp's generated <c>Tensorboard.Event</c>
/// and <c>Summary</c> classes, encoded by Google.Protobuf; the CRC is System.IO.Hashing's CRC-32C. The first record of a
/// file is <c>file_version: "brain.Event:2"</c>, as TensorFlow writes. Every call appends and flushes, so a killed run
/// loses nothing written before.
/// Not TorchSharp's <c>SummaryWriter</c> (0.107), measured on its output: its file_version record's wall_time and its
/// file name are .NET ticks (6.39e17, not Unix seconds), scalars get whole-second wall times and an int step, one event
/// per scalar, and <c>add_img</c> decodes the PNG again through SkiaSharp from a file path.
/// </summary>
public sealed class TensorBoardEvents
{
    public const string FileVersion = "brain.Event:2";

    readonly object gate = new();

    /// <param name="folder">The folder <c>tensorboard --logdir</c> sees as one run (created on first write).</param>
    public TensorBoardEvents(string folder)
    {
        Folder = folder;
        // TensorFlow's name: events.out.tfevents.{seconds}.{host}.{pid}.{n}; one file per writer.
        FilePath = Path.Combine(folder, $"events.out.tfevents.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..8]}");
    }

    public string Folder { get; }

    public string FilePath { get; }

    /// <summary>Scalars of one step (non-finite values are written too; TensorBoard shows them as gaps).</summary>
    public void Scalars(long step, IEnumerable<KeyValuePair<string, double>> values, DateTimeOffset? time = null)
    {
        var summary = new Summary();
        foreach (var (tag, value) in values) summary.Value.Add(new Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        if (summary.Value.Count > 0) Append(SummaryEvent(step, time, summary));
    }

    /// <summary>A PNG as an image summary (TensorBoard's Images tab).</summary>
    public void Image(long step, string tag, byte[] png, int height, int width, DateTimeOffset? time = null)
    {
        var image = new Summary.Types.Image { Height = height, Width = width, Colorspace = 3, EncodedImageString = ByteString.CopyFrom(png) };   // 3 = RGB
        var summary = new Summary();
        summary.Value.Add(new Summary.Types.Value { Tag = tag, Image = image });
        Append(SummaryEvent(step, time, summary));
    }

    /// <summary>
    /// Every event of a file, checking each record's framing and both CRCs. Records are read one at a time; each record's
    /// length must fit in what is left of the file, and the events it yields (tags, images, one object each) are charged
    /// to the file's <see cref="LoadBudget"/>, so a hostile file costs at most the budget, never what its lengths claim.
    /// The bodies are parsed by the generated <c>tensorflow.Event</c> parser (Google.Protobuf: bounded lengths, nesting
    /// at most 100 deep).
    /// </summary>
    /// <exception cref="InvalidDataException">A length or CRC does not match, a record is cut short or is not an Event
    /// protobuf, or the events need more than the budget (the record's offset is named).</exception>
    /// <param name="budget">By default <see cref="LoadBudget.ForFile"/> (4 × the file's size + 256 MiB, or IAR_LOAD_BUDGET).</param>
    public static IReadOnlyList<TensorBoardEvent> Read(string path, LoadBudget? budget = null)
    {
        var events = new List<TensorBoardEvent>();
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        long size = file.Length;
        budget ??= LoadBudget.ForFile(path, size);
        Span<byte> header = stackalloc byte[12];
        Span<byte> footer = stackalloc byte[4];
        long at = 0;
        while (at < size)
        {
            if (size - at < 16) throw new InvalidDataException($"{path}: the record at byte {at} is cut short in its header ({size - at} bytes left, 16 needed).");
            file.ReadExactly(header);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != MaskedCrc(header[..8]))
                throw new InvalidDataException($"{path}: the length CRC of the record at byte {at} does not match.");
            // Both sides are at most the file's size, so 16 + length cannot overflow below.
            if (length > (ulong)(size - at - 16))
                throw new InvalidDataException($"{path}: the record at byte {at} declares {length} bytes, but only {size - at - 16} are left in the file.");
            if (length > (ulong)Array.MaxLength)
                throw new InvalidDataException($"{path}: the record at byte {at} declares {length} bytes; a record holds at most {Array.MaxLength}.");
            budget.Charge((long)length, $"the record at byte {at}");
            var body = new byte[(int)length];
            file.ReadExactly(body);
            file.ReadExactly(footer);
            if (BinaryPrimitives.ReadUInt32LittleEndian(footer) != MaskedCrc(body))
                throw new InvalidDataException($"{path}: the data CRC of the record at byte {at} does not match.");
            foreach (var read in Parse(body, path, at))
            {
                budget.Charge(LoadBudget.ObjectCost + 2L * (read.Tag?.Length ?? 0) + (read.Image?.Length ?? 0), $"the events of the record at byte {at}");
                events.Add(read);
            }
            at += 16 + (long)length;
        }
        return events;
    }

    /// <summary>The events of one record: one per summary value, or one (without tag) for a record with no summary.</summary>
    static IEnumerable<TensorBoardEvent> Parse(byte[] body, string path, long at)
    {
        Event e;
        try
        {
            e = Event.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new InvalidDataException($"{path}: the record at byte {at} is not a tensorflow.Event protobuf ({error.Message})");
        }
        string? version = e.WhatCase == Event.WhatOneofCase.FileVersion ? e.FileVersion : null;
        if (e.WhatCase != Event.WhatOneofCase.Summary || e.Summary.Value.Count == 0)
        {
            yield return new TensorBoardEvent(e.WallTime, e.Step, version, null, 0, null);
            yield break;
        }
        foreach (var v in e.Summary.Value)
            yield return new TensorBoardEvent(e.WallTime, e.Step, version, v.Tag,
                v.ValueCase == Summary.Types.Value.ValueOneofCase.SimpleValue ? v.SimpleValue : 0,
                v.ValueCase == Summary.Types.Value.ValueOneofCase.Image ? v.Image.EncodedImageString.ToByteArray() : null);
    }

    /// <summary>TFRecord's CRC mask: rotate right by 15 and add a constant.</summary>
    public static uint Masked(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    static uint MaskedCrc(ReadOnlySpan<byte> data) => Masked(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data));

    void Append(Event record)
    {
        lock (gate)
        {
            bool fresh = !File.Exists(FilePath);
            Directory.CreateDirectory(Folder);
            using var stream = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
            if (fresh) Frame(stream, new Event { WallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, FileVersion = FileVersion });
            Frame(stream, record);
            stream.Flush();
        }
    }

    // Unix seconds with millisecond resolution, as TensorFlow's time.time(); step 0 is proto3's default and not written.
    static Event SummaryEvent(long step, DateTimeOffset? time, Summary summary) =>
        new() { WallTime = (time ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds() / 1000.0, Step = step, Summary = summary };

    static void Frame(Stream stream, Event record)
    {
        var body = record.ToByteArray();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        stream.Write(header);
        stream.Write(body);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(body));
        stream.Write(footer);
    }
}
