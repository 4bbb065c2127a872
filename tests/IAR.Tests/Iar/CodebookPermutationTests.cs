using System.Buffers.Binary;
using System.Security.Cryptography;
using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

public class CodebookPermutationTests
{
    static CodebookPermutation RandomPermutation(int count, ulong seed)
    {
        using var g = new torch.Generator(seed);
        using var perm = torch.randperm(count, ScalarType.Int64, generator: g);
        return CodebookPermutation.FromTensor(perm);
    }

    [Fact]
    public void Maps_round_trip_for_random_permutations()
    {
        var random = new Random(9);
        for (int trial = 0; trial < 25; trial++)
        {
            int count = random.Next(1, 500);
            var p = RandomPermutation(count, (ulong)trial);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(i, p.NewToOld[p.OldToNew[i]]);
                Assert.Equal(i, p.OldToNew[p.NewToOld[i]]);
            }
            using var tokens = torch.randint(0, count, [3, 7], dtype: ScalarType.Int64);
            using var there = p.ToNew(tokens);
            using var back = p.ToOld(there);
            TensorAssert.Identical(tokens, back);
            using var codebook = torch.randn(count, 4);
            using var rearranged = p.Rearrange(codebook);
            using var restored = p.Restore(rearranged);
            TensorAssert.Identical(codebook, restored);
            // Row new of the rearranged codebook is the code the old index new_to_old[new] pointed at.
            TensorAssert.Identical(codebook.index_select(0, tokens.flatten()), rearranged.index_select(0, there.flatten()));
        }
    }

    [Fact]
    public void Hash_is_the_agreed_sha256_prefix_and_identity_is_named()
    {
        var p = RandomPermutation(300, 1);
        var bytes = new byte[300 * 8];
        for (int i = 0; i < 300; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), p.NewToOld[i]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes))[..16], p.Hash);
        Assert.Matches("^[0-9a-f]{16}$", p.Hash);
        Assert.NotEqual(p.Hash, RandomPermutation(300, 2).Hash);
        Assert.Equal("identity", CodebookPermutation.Identity(300).Hash);
        Assert.Equal("identity", CodebookPermutation.FromNewToOld(Enumerable.Range(0, 5).ToArray()).Hash);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 1 }, "1 appears twice")]
    [InlineData(new[] { 0, 3, 1 }, "entry 1 is 3, outside [0, 3)")]
    [InlineData(new int[0], "empty")]
    public void Non_permutations_are_rejected(int[] values, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => CodebookPermutation.FromNewToOld(values));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Save_and_load_round_trip_with_cluster_sizes()
    {
        using var dir = new TempDir();
        var p = RandomPermutation(64, 4);
        var layout = ClusterLayout.FromSizes([10, 30, 24]);
        p.Save(dir.File("p.safetensors"), layout);
        var (loaded, sizes) = CodebookPermutation.Load(dir.File("p.safetensors"), expectedCount: 64);
        Assert.Equal(p.NewToOld, loaded.NewToOld);
        Assert.Equal(p.Hash, loaded.Hash);
        Assert.Equal(layout.Sizes, sizes!.Sizes);
        var file = SafeTensorsFile.Open(dir.File("p.safetensors"));
        Assert.Equal(ScalarType.Int64, file.Entry("new_to_old").DType);
        Assert.Equal(ScalarType.Int64, file.Entry("old_to_new").DType);
        Assert.Equal(p.Hash, file.Metadata[CodebookPermutation.MetadataKey]);
    }

    [Fact]
    public void Mismatched_or_broken_permutation_files_are_invalid_data()
    {
        using var dir = new TempDir();
        var p = RandomPermutation(16, 5);
        p.Save(dir.File("good.safetensors"));

        var e = Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(dir.File("good.safetensors"), expectedCount: 32));
        Assert.Contains("16 entries but the codebook has 32", e.Message);

        long[] Longs(IEnumerable<int> v) => v.Select(x => (long)x).ToArray();
        void Write(string name, long[] newToOld, long[]? oldToNew, IReadOnlyDictionary<string, string>? metadata = null)
        {
            var tensors = new Dictionary<string, Tensor> { ["new_to_old"] = torch.tensor(newToOld) };
            if (oldToNew is not null) tensors["old_to_new"] = torch.tensor(oldToNew);
            SafeTensorsWriter.Write(dir.File(name), tensors, metadata);
        }

        var duplicate = Longs(p.NewToOld);
        duplicate[3] = duplicate[4];
        Write("duplicate.safetensors", duplicate, null);
        Assert.Contains("not a permutation", Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(dir.File("duplicate.safetensors"))).Message);

        Write("inverse.safetensors", Longs(p.NewToOld), Longs(p.NewToOld));
        Assert.Contains("not the inverse", Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(dir.File("inverse.safetensors"))).Message);

        Write("tampered.safetensors", Longs(p.NewToOld), Longs(p.OldToNew), new Dictionary<string, string> { [CodebookPermutation.MetadataKey] = "0123456789abcdef" });
        Assert.Contains("was altered", Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(dir.File("tampered.safetensors"))).Message);

        SafeTensorsWriter.Write(dir.File("floats.safetensors"), new Dictionary<string, Tensor> { ["new_to_old"] = torch.arange(16, dtype: ScalarType.Float32) });
        Assert.Contains("1-D int64", Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(dir.File("floats.safetensors"))).Message);

        SafeTensorsWriter.Write(dir.File("other.safetensors"), new Dictionary<string, Tensor> { ["weights"] = torch.zeros(3) });
        Assert.Contains("has no tensor 'new_to_old'", Assert.Throws<InvalidDataException>(() => CodebookPermutation.Load(dir.File("other.safetensors"))).Message);
    }

    [Fact]
    public void Artifacts_are_paired_only_with_the_permutation_they_record()
    {
        var p = RandomPermutation(32, 6);
        p.RequireRecordedIn(p.Metadata, "ckpt");
        CodebookPermutation.Identity(32).RequireRecordedIn(new Dictionary<string, string>(), "original checkpoint");
        var e = Assert.Throws<InvalidDataException>(() => p.RequireRecordedIn(RandomPermutation(32, 7).Metadata, "gpt.safetensors"));
        Assert.Contains("gpt.safetensors", e.Message);
        Assert.Contains(p.Hash, e.Message);
        Assert.Throws<InvalidDataException>(() => p.RequireRecordedIn(new Dictionary<string, string>(), "original checkpoint"));
    }
}
