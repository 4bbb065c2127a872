using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
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

    /// <summary>Every event of a file, checking each record's framing and both CRCs.</summary>
    /// <exception cref="InvalidDataException">A length or CRC does not match, or a record is cut short (its offset is named).</exception>
    public static IReadOnlyList<TensorBoardEvent> Read(string path)
    {
        var events = new List<TensorBoardEvent>();
        var data = File.ReadAllBytes(path);
        int at = 0;
        while (at < data.Length)
        {
            if (at + 12 > data.Length) throw new InvalidDataException($"{path}: the record at byte {at} is cut short in its header.");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(at));
            if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 8)) != MaskedCrc(data.AsSpan(at, 8)))
                throw new InvalidDataException($"{path}: the length CRC of the record at byte {at} does not match.");
            if (length > (ulong)(data.Length - at - 16)) throw new InvalidDataException($"{path}: the record at byte {at} is cut short.");
            var body = data.AsSpan(at + 12, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 12 + (int)length)) != MaskedCrc(body))
                throw new InvalidDataException($"{path}: the data CRC of the record at byte {at} does not match.");
            events.AddRange(ParseEvent(body.ToArray()));
            at += 16 + (int)length;
        }
        return events;
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

    static IEnumerable<TensorBoardEvent> ParseEvent(byte[] e)
    {
        double wall = 0;
        long step = 0;
        string? version = null;
        var values = new List<(string? Tag, float Value, byte[]? Image)>();
        foreach (var (field, payload, number) in Fields(e))
            switch (field)
            {
                case 1: wall = BitConverter.Int64BitsToDouble((long)number); break;
                case 2: step = (long)number; break;
                case 3: version = Encoding.UTF8.GetString(payload!); break;
                case 5:
                    foreach (var (f, value, _) in Fields(payload!))
                        if (f == 1) values.Add(ParseValue(value!));
                    break;
            }
        if (values.Count == 0) yield return new TensorBoardEvent(wall, step, version, null, 0, null);
        foreach (var (tag, value, image) in values) yield return new TensorBoardEvent(wall, step, version, tag, value, image);
    }

    static (string? Tag, float Value, byte[]? Image) ParseValue(byte[] v)
    {
        string? tag = null;
        float value = 0;
        byte[]? image = null;
        foreach (var (field, payload, number) in Fields(v))
            switch (field)
            {
                case 1: tag = Encoding.UTF8.GetString(payload!); break;
                case 2: value = BitConverter.Int32BitsToSingle((int)number); break;
                case 4:
                    foreach (var (f, p, _) in Fields(payload!))
                        if (f == 4) image = p;
                    break;
            }
        return (tag, value, image);
    }

    /// <summary>The fields of a protobuf message: number, and the payload (length-delimited) or the raw number.</summary>
    static IEnumerable<(int Field, byte[]? Payload, ulong Number)> Fields(byte[] m)
    {
        int at = 0;
        while (at < m.Length)
        {
            ulong key = ReadVarint(m, ref at);
            int field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0: yield return (field, null, ReadVarint(m, ref at)); break;
                case 1: yield return (field, null, BinaryPrimitives.ReadUInt64LittleEndian(m.AsSpan(at))); at += 8; break;
                case 5: yield return (field, null, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(at))); at += 4; break;
                case 2:
                    int length = (int)ReadVarint(m, ref at);
                    yield return (field, m.AsSpan(at, length).ToArray(), 0);
                    at += length;
                    break;
                default: throw new InvalidDataException($"A protobuf field uses wire type {key & 7}, which event files do not.");
            }
        }
    }

    static ulong ReadVarint(byte[] m, ref int at)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = m[at++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
    }
}
