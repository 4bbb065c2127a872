using IAR.Host.Iar;
using IAR.Host.Serialization;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary>
/// A permutation file (<c>permutation.safetensors</c>) as a hostile input: every tensor checked for kind, range and
/// agreement before the permutation is used, each refusal naming the file and the tensor; and what a saved file
/// carries back (its cluster sizes, its hash). Also the objective's own description, which the run log prints.
/// </summary>
public class PermutationFileTests
{
    static readonly int[] NewToOld = [2, 0, 3, 1];

    static string WriteFile(TempDir dir, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var path = dir.File("permutation.safetensors");
        SafeTensorsWriter.Write(path, tensors, metadata ?? new Dictionary<string, string>());
        foreach (var t in tensors.Values) t.Dispose();
        return path;
    }

    static Tensor Longs(params long[] values) => torch.tensor(values, [values.Length], ScalarType.Int64);

    [Fact]
    public void A_saved_layout_comes_back_with_its_sizes()
    {
        using var dir = new TempDir();
        var permutation = CodebookPermutation.FromNewToOld(NewToOld);
        var path = dir.File("p.safetensors");
        permutation.Save(path, ClusterLayout.FromSizes([1, 3]));

        var (read, layout) = CodebookPermutation.Load(path, expectedCount: 4);
        Assert.Equal(permutation.Hash, read.Hash);
        Assert.Equal([1, 3], layout!.Sizes);
    }

    [Theory]
    [InlineData(new long[] { 0, 4 }, "cluster_sizes must be positive")]   // an empty cluster
    [InlineData(new long[] { 1, 2 }, "add up to 4")]                     // sizes that do not cover the codebook
    [InlineData(new long[] { 2, 2, 0 }, "must be positive")]
    public void Cluster_sizes_must_be_positive_and_cover_the_codebook(long[] sizes, string message)
    {
        using var dir = new TempDir();
        var path = WriteFile(dir, new Dictionary<string, Tensor> { ["new_to_old"] = Longs(2, 0, 3, 1), ["cluster_sizes"] = Longs(sizes) });
        var e = Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData(2147483648L)]    // int.MaxValue + 1
    [InlineData(-2147483649L)]   // int.MinValue − 1
    public void An_index_beyond_32_bits_is_refused_by_value_and_place(long value)
    {
        using var dir = new TempDir();
        var path = WriteFile(dir, new Dictionary<string, Tensor> { ["new_to_old"] = Longs(0, 1, value) });
        var e = Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(path));
        Assert.Contains($"{path}: 'new_to_old' has the out-of-range value {value} at 2", e.Message);
        // The largest and smallest 32-bit values are read (and then refused as no permutation, not as out of range).
        var edge = WriteFile(dir, new Dictionary<string, Tensor> { ["new_to_old"] = Longs(0, int.MaxValue, int.MinValue) });
        Assert.Contains("new_to_old is not a permutation of 0…2", Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(edge)).Message);
    }

    [Fact]
    public void A_file_without_new_to_old_or_with_another_dtype_is_refused_naming_the_tensor()
    {
        using var dir = new TempDir();
        var missing = WriteFile(dir, new Dictionary<string, Tensor> { ["old_to_new"] = Longs(1, 0) });
        var e = Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(missing));
        Assert.Contains("has no tensor 'new_to_old'", e.Message);
        Assert.Contains("int64 new_to_old and old_to_new", e.Message);

        var floats = WriteFile(dir, new Dictionary<string, Tensor> { ["new_to_old"] = torch.tensor(new float[] { 1, 0 }) });
        var f = Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(floats));
        Assert.Contains("'new_to_old' must be a 1-D int64 tensor, not Float32 [2]", f.Message);

        var square = WriteFile(dir, new Dictionary<string, Tensor> { ["new_to_old"] = torch.zeros([2, 3], ScalarType.Int64) });
        var s = Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(square));
        Assert.Contains("'new_to_old' must be a 1-D int64 tensor, not Int64 [2, 3]", s.Message);
    }

    [Fact]
    public void A_recorded_empty_hash_reads_as_the_identity()
    {
        Assert.Equal(CodebookPermutation.IdentityHash, CodebookPermutation.RecordedHash(new Dictionary<string, string> { [CodebookPermutation.MetadataKey] = "" }));
        Assert.Equal("abc", CodebookPermutation.RecordedHash(new Dictionary<string, string> { [CodebookPermutation.MetadataKey] = "abc" }));
        Assert.Equal(CodebookPermutation.IdentityHash, CodebookPermutation.RecordedHash(new Dictionary<string, string>()));
    }

    [Fact]
    public void The_objective_describes_itself_with_its_weights_as_the_run_log_prints_it()
    {
        var loss = new GeneratorLoss([new(new TokenCrossEntropy(), 1.0), new(new ClusterCrossEntropy(ClusterLayout.Uniform(8, 4)), 0.5)]);
        Assert.Equal("token_ce + 0.5·cluster_ce", loss.ToString());
        // Weights print with 4 significant digits.
        Assert.Equal("token_ce + 0.3333·cluster_ce",
            new GeneratorLoss([new(new TokenCrossEntropy(), 1.0), new(new ClusterCrossEntropy(ClusterLayout.Uniform(8, 4)), 1.0 / 3)]).ToString());
        var repeated = Assert.Throws<ArgumentException>(() => new GeneratorLoss([new(new TokenCrossEntropy(), 1), new(new TokenCrossEntropy(), 2)]));
        Assert.Contains("distinct names: token_ce, token_ce", repeated.Message);
        Assert.Contains("at least one term", Assert.Throws<ArgumentException>(() => new GeneratorLoss([])).Message);
    }
}
