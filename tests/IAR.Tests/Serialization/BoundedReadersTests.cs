using IAR.Host.Configuration;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Tests.Support;

namespace IAR.Tests.Serialization;

/// <summary>The budget discipline of the other readers: each over-large or lying file is one error, before the allocation.</summary>
public class BoundedReadersTests
{
    [Fact]
    public void A_gzip_idx_declaring_a_gibibyte_is_refused_before_inflating()
    {
        using var dir = new TempDir();
        var header = new byte[12];
        header[2] = 0x08;
        header[3] = 2;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 1 << 15);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), 1 << 15);
        using (var gz = new GZipStream(File.Create(dir.File("bomb.idx.gz")), CompressionLevel.SmallestSize))
            gz.Write(header);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("bomb.idx.gz")));
        Assert.Contains("bomb.idx.gz needs 1 GiB for its IDX data", e.Message);
    }

    [Fact]
    public void An_empty_idx_whose_items_would_overflow_the_item_size_is_refused()
    {
        // 0 × 65536 × 65536: no data, but ItemSize (an int) wrapped to 0 before the item size was bounded.
        using var dir = new TempDir();
        var header = new byte[16];
        header[2] = 0x08;
        header[3] = 3;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), 1 << 16);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), 1 << 16);
        File.WriteAllBytes(dir.File("empty.idx"), header);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(dir.File("empty.idx")));
        Assert.Contains("declares IDX sizes (0x65536x65536) too large to hold", e.Message);
    }

    [Theory]
    [InlineData("{'descr': '|u1', 'fortran_order': False, 'shape': (1000000, 64, 64, 3), }", "needs 12288000000 bytes of data but the entry has 4")]
    [InlineData("{'descr': '|u1', 'fortran_order': False, 'shape': (4611686018427387904, 4, 1, 3), }", "too large to address")]
    [InlineData("{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 2), }", "not a non-negative integer")]
    [InlineData("{'descr': 'O', 'fortran_order': False, 'shape': (1,), }", "not a plain number type")]
    public void An_npy_header_must_describe_exactly_the_bytes_that_follow(string dict, string expected)
    {
        var text = Encoding.ASCII.GetBytes(dict + "\n");
        var bytes = NpyArray.Magic.Concat(new byte[] { 1, 0, (byte)text.Length, (byte)(text.Length >> 8) }).Concat(text).Concat(new byte[4]).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => NpyArray.ReadHeader(new MemoryStream(bytes), bytes.Length, "a.npy"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_yaml_of_nested_aliases_is_refused_before_it_is_expanded()
    {
        var yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++) yaml.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        var e = Assert.Throws<ConfigValidationException>(() => ExperimentLoader.Parse(yaml.ToString(), "laughs.yaml", []));
        Assert.Contains($"laughs.yaml: the file is not read: its aliases expand to more than {YamlLimits.MaxExpandedNodes} nodes.", e.Message);
    }

    [Theory]
    [InlineData("*x : 1\nb: &x [1]\n", 1, 1)]   // before its anchor, as a key: YamlDotNet's Equals recursed until the stack overflowed (fuzz/run yaml)
    [InlineData("a: *x\nb: &x 1\n", 1, 4)]      // before its anchor, as a value
    [InlineData("a: &x [1, *x]\n", 1, 11)]      // inside the node it anchors: a cycle
    [InlineData("a: *y\n", 1, 4)]               // no such anchor
    public void An_alias_to_no_complete_earlier_node_is_refused_at_its_position(string yaml, int line, int column)
    {
        var error = Assert.Single(Assert.Throws<ConfigValidationException>(() => ExperimentLoader.Parse(yaml, "alias.yaml", [])).Errors);
        Assert.Equal(("alias.yaml", line, column), (error.Source, error.Line, error.Column));
        Assert.EndsWith("or inside the node it anchors; an alias may only repeat a complete node anchored earlier.", error.Message);

        // An alias after its anchor is YAML's repetition, read and counted as the nodes it repeats: 1 + 1 + 3 + 1 + 3.
        Assert.Equal(9, YamlLimits.Check("a: &s [1, 2]\nb: *s\n", "alias.yaml"));
    }

    [Fact]
    public void A_yaml_nested_a_thousand_levels_is_refused()
    {
        var e = Assert.Throws<ConfigValidationException>(() => ExperimentLoader.Parse(new string('[', 1000) + new string(']', 1000), "deep.yaml", []));
        Assert.Contains("nests deeper than 64 levels", e.Message);
    }

    [Fact]
    public void A_safetensors_header_with_invalid_utf8_is_refused_found_by_fuzzing()
    {
        // Minimised from fuzz/run tokencache: a byte 0x87 inside a metadata key threw InvalidOperationException.
        using var dir = new TempDir();
        var header = Encoding.UTF8.GetBytes("{\"__metadata__\": {\"iar.fmt\": \"x\"}}");
        header[22] = 0x87;
        File.WriteAllBytes(dir.File("bad.safetensors"), BitConverter.GetBytes((ulong)header.Length).Concat(header).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => IAR.Host.Serialization.SafeTensorsFile.Open(dir.File("bad.safetensors")));
        Assert.EndsWith("bad.safetensors is not a valid safetensors file: its header is not valid UTF-8.", e.Message);
    }

    [Fact]
    public void A_percent_sign_inside_a_flow_sequence_is_a_yaml_error_found_by_fuzzing()
    {
        // Minimised from fuzz/run yaml: YamlDotNet threw InvalidOperationException, which ended the loader.
        var e = Assert.Throws<ConfigValidationException>(() => ExperimentLoader.Parse(Encoding.UTF8.GetString(Convert.FromBase64String("YTogJnggWyUsIDIsIHtiOiBjUl3oAwAAKngKYXJtczoKICAtIG5hbWU6IG8=")), "pct.yaml", []));
        Assert.Contains("pct.yaml", e.Message);
        Assert.Contains("YAML syntax error", e.Message);
    }

    [Theory]
    [InlineData("!![")]            // a tag that is no URI: ArgumentException from YamlDotNet's event parser (in YamlLimits)
    [InlineData(" : \uFFFD")]     // U+FFFD (afl wrote 0x87) or a control character where a scalar is expected: ArgumentException from the node builder
    [InlineData("\0: x")]
    [InlineData(" &x\n: \u0013")]
    public void Yaml_that_yamldotnet_fails_on_with_an_argument_exception_is_a_yaml_error_found_by_fuzzing(string yaml)
    {
        // Minimised from a 10-minute fuzz/run yaml (7 crashes, two kinds); each ended the loader before.
        var e = Assert.Throws<ConfigValidationException>(() => ExperimentLoader.Parse(yaml, "bad.yaml", []));
        Assert.Contains("bad.yaml", e.Message);
        Assert.Contains("YAML syntax error", e.Message);
    }
}
