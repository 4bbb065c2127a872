using IAR.Host.Iar;
using IAR.ContractTests;
using IAR.Host.Data;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Data;

public class TokenCacheTests
{
    /// <summary>N random 1x8x8 images with labels i % 4 (the fixture tokenizer's shape).</summary>
    internal static InMemoryImageDataset RandomImages(int count, int seed)
    {
        using var g = new torch.Generator((ulong)seed);
        var pixels = torch.randint(0, 256, [count, 1, 8, 8], generator: g).to(ScalarType.Byte);
        var labels = torch.arange(count, dtype: ScalarType.Int64).remainder(4);
        return new InMemoryImageDataset("random", pixels, labels, ["a", "b", "c", "d"]);
    }

    /// <summary>Writes the cache of <paramref name="images"/> with the fixture tokenizer to dir/c.safetensors (tokenizer hash "h").</summary>
    static string WriteCache(TempDir dir, InMemoryImageDataset images, string hash = "h", bool withFlips = false)
    {
        var path = dir.File("c.safetensors");
        TokenCacheWriter.Write(path, FixturePluginCatalog.Tokenizer(0), hash, images, withFlips, batchSize: 4, CPU);
        return path;
    }

    [Fact]
    public void Tokens_equal_the_tokenizer_encoding_in_memory_and_memory_mapped()
    {
        using var dir = new TempDir();
        using var images = RandomImages(37, seed: 1);
        var tokenizer = FixturePluginCatalog.Tokenizer(0);
        var path = dir.File("train.safetensors");
        TokenCacheWriter.Write(path, tokenizer, "hash-a", images, withFlips: true, batchSize: 8, CPU);

        using var all = torch.arange(37L);
        using var expected = tokenizer.Encode(images.Images(all));
        using var expectedFlipped = tokenizer.Encode(images.Images(all).flip(3));
        using var memory = TokenCache.Open(path, "hash-a", images.Fingerprint);
        using var mapped = TokenCache.Open(path, "hash-a", images.Fingerprint, inMemoryLimit: 0);
        Assert.False(memory.IsMemoryMapped);
        Assert.True(mapped.IsMemoryMapped);
        foreach (var cache in new[] { memory, mapped })
        {
            Assert.Equal((37, 2, 16, 16, 4), (cache.Count, cache.Variants, cache.SequenceLength, cache.VocabularySize, cache.NumClasses));
            Assert.Equal(TokenCache.IdentityPermutation, cache.Permutation);
            var batch = cache.Gather(all);
            TensorAssert.Identical(expected, batch.Tokens, "variant 0");
            TensorAssert.Identical(images.Labels, batch.Labels, "labels");
            var flipped = cache.Gather(all, torch.ones(37, dtype: ScalarType.Int64));
            TensorAssert.Identical(expectedFlipped, flipped.Tokens, "variant 1");
            var mixed = cache.Gather(torch.tensor(new long[] { 5, 5, 36 }), torch.tensor(new long[] { 0, 1, 1 }));
            TensorAssert.Identical(torch.stack([expected[5], expectedFlipped[5], expectedFlipped[36]]), mixed.Tokens, "mixed");
        }
    }

    [Fact]
    public void Tokens_are_stored_in_the_smallest_integer_type_that_holds_the_vocabulary()
    {
        Assert.Equal(ScalarType.Byte, TokenCache.StorageType(256));
        Assert.Equal(ScalarType.Int16, TokenCache.StorageType(257));
        Assert.Equal(ScalarType.Int16, TokenCache.StorageType(32768));
        Assert.Equal(ScalarType.Int32, TokenCache.StorageType(32769));

        using var dir = new TempDir();
        using var images = RandomImages(10, seed: 2);
        var file = IAR.Host.Serialization.SafeTensorsFile.Open(WriteCache(dir, images));
        Assert.Equal(ScalarType.Byte, file.Entry("tokens").DType);
        Assert.Equal(new long[] { 10, 1, 16 }, file.Entry("tokens").Shape);
        Assert.Equal("h", file.Metadata["iar.tokenizer"]);
        Assert.Equal("identity", file.Metadata["iar.permutation"]);
    }

    [Fact]
    public void A_cache_of_another_tokenizer_or_other_images_is_refused()
    {
        using var dir = new TempDir();
        using var images = RandomImages(10, seed: 3);
        var path = WriteCache(dir, images, hash: "tokenizer-a");
        var tokenizer = Assert.Throws<InvalidDataException>(() => TokenCache.Open(path, "tokenizer-b", images.Fingerprint));
        Assert.Contains("was encoded by tokenizer tokenizer-a, not by this run's tokenizer tokenizer-b", tokenizer.Message);
        Assert.Contains("--fresh", tokenizer.Message);
        using var other = RandomImages(10, seed: 4);
        Assert.Contains("other images", Assert.Throws<InvalidDataException>(() => TokenCache.Open(path, "tokenizer-a", other.Fingerprint)).Message);
    }

    [Fact]
    public void Truncated_and_foreign_files_are_refused()
    {
        using var dir = new TempDir();
        using var images = RandomImages(10, seed: 5);
        var path = WriteCache(dir, images);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..^7]);
        Assert.Contains("cut.safetensors", Assert.Throws<InvalidDataException>(() => TokenCache.Open(dir.File("cut.safetensors"), "h", null)).Message);

        IAR.Host.Serialization.SafeTensorsWriter.Write(dir.File("weights.safetensors"), [new("w", torch.ones(2))]);
        Assert.Contains("is not a token cache", Assert.Throws<InvalidDataException>(() => TokenCache.Open(dir.File("weights.safetensors"), "h", null)).Message);
    }

    [Fact]
    public void Indices_outside_the_vocabulary_in_the_file_are_reported_as_damage()
    {
        using var dir = new TempDir();
        using var images = RandomImages(4, seed: 6);
        var path = WriteCache(dir, images);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] = 200;   // the last token, stored as U8, now ≥ V = 16
        File.WriteAllBytes(path, bytes);
        Assert.Contains("outside [0, 16)", Assert.Throws<InvalidDataException>(() => TokenCache.Open(path, "h", null)).Message);
        using var mapped = TokenCache.Open(path, "h", null, inMemoryLimit: 0);
        Assert.Throws<InvalidDataException>(() => mapped.Gather(torch.tensor(new long[] { 3 })));
    }

    [Fact]
    public void A_rearranged_source_rearranges_every_token_through_old_to_new()
    {
        using var dir = new TempDir();
        using var images = RandomImages(12, seed: 7);
        var path = WriteCache(dir, images);
        using var cache = TokenCache.Open(path, "h", null);
        using var g = new torch.Generator(9);
        using var oldToNew = torch.randperm(16, generator: g);
        using var rearranged = new RearrangedTokenSource(cache, oldToNew, "0123456789abcdef");
        Assert.Equal("0123456789abcdef", rearranged.Permutation);
        using var indices = torch.arange(12L);
        var original = cache.Gather(indices).Tokens;
        TensorAssert.Identical(oldToNew[original], rearranged.Gather(indices).Tokens);

        Assert.Throws<ArgumentException>(() => new RearrangedTokenSource(cache, torch.zeros(16, dtype: ScalarType.Int64), "x"));
        Assert.Throws<ArgumentException>(() => new RearrangedTokenSource(cache, torch.arange(15L), "x"));
        var square = Assert.Throws<ArgumentException>(() => new RearrangedTokenSource(cache, torch.zeros([4, 4], dtype: ScalarType.Int64), "x"));
        Assert.Contains("must be int64 [16], not Int64 [4, 4]", square.Message);
        var twice = Assert.Throws<ArgumentException>(() => new RearrangedTokenSource(rearranged, oldToNew, "y"));
        Assert.Contains("already rearranged (permutation 0123456789abcdef)", twice.Message);
    }
}
