using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Configuration;
using IAR.Host.Data;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using IAR.Host.Training;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Data;

/// <summary>
/// LlamaGen's extracted-code layout: files numpy wrote with extract_codes_c2i.py's saving lines
/// (tests/fixtures/llamagen-codes/make_fixture.py) read back as its formula; <c>iar extract</c>'s files equal numpy's
/// byte for byte; the trainer reads the same batches from extracted codes as from the images encoded directly; and
/// every bad file gets one error naming it.
/// </summary>
public class LlamaGenCodesTests
{
    static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "llamagen-codes", name);

    // The formulas of make_fixture.py.
    static long First(long i, long a, long l) => (7 * i + 3 * a + l) % 16;

    static long Second(long i, long a, long l) => (5 * i + a + 2 * l + 1) % 16;

    static readonly TokenizerInfo Tokenizer = FixturePluginCatalog.Tokenizer(0).Info;   // 1x8x8 images, 4x4 grid, V = 16

    static TokenCache Import(TempDir dir, string codePath, int numClasses = 4)
    {
        var path = dir.File($"train-{Guid.NewGuid():N}.safetensors");
        var copies = LlamaGenCodeImport.Copies(codePath, 8);
        LlamaGenCodeImport.Write(path, copies, Tokenizer, "h", numClasses);
        return TokenCache.Open(path, "h", LlamaGenCodeImport.Fingerprint(copies));
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public void Codes_numpy_wrote_read_back_as_written_every_augmentation_a_variant()
    {
        using var dir = new TempDir();
        using var cache = Import(dir, Fixture("flip"));
        Assert.Equal((3, 2, 16, 16, 4), (cache.Count, cache.Variants, cache.SequenceLength, cache.VocabularySize, cache.NumClasses));
        for (long a = 0; a < 2; a++)
        {
            var batch = cache.Gather(torch.arange(3L), torch.full(3, a, ScalarType.Int64));
            for (long i = 0; i < 3; i++)
            {
                Assert.Equal(i % 4, batch.Labels[i].item<long>());
                for (long l = 0; l < 16; l++) Assert.Equal(First(i, a, l), batch.Tokens[i, l].item<long>());
            }
        }
    }

    [Fact]
    public void The_ten_crop_105_copy_adds_its_ten_crops_after_the_first_copys()
    {
        using var dir = new TempDir();
        using var cache = Import(dir, Fixture("c2i_flip_ten_crop"));
        Assert.Equal((2, 20), (cache.Count, cache.Variants));
        for (long v = 0; v < 20; v++)
        {
            var batch = cache.Gather(torch.arange(2L), torch.full(2, v, ScalarType.Int64));
            for (long i = 0; i < 2; i++)
            for (long l = 0; l < 16; l++)
                Assert.Equal(v < 10 ? First(i, v, l) : Second(i, v - 10, l), batch.Tokens[i, l].item<long>());
        }
    }

    [Fact]
    public void Files_written_for_iar_extract_equal_numpys_byte_for_byte()
    {
        using var dir = new TempDir();
        var folders = LlamaGenCodeFolders.At(dir.File("flip"), 8);
        for (int i = 0; i < 3; i++)
        {
            var codes = new long[2, 16];
            for (int a = 0; a < 2; a++)
            for (int l = 0; l < 16; l++)
                codes[a, l] = First(i, a, l);
            folders.Write(i, codes, i % 4);
        }
        var numpy = LlamaGenCodeFolders.At(Fixture("flip"), 8);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(File.ReadAllBytes(numpy.CodeFile(i)), File.ReadAllBytes(folders.CodeFile(i)));
            Assert.Equal(File.ReadAllBytes(numpy.LabelFile(i)), File.ReadAllBytes(folders.LabelFile(i)));
        }
    }

    /// <summary>Records the token batches the trainer hands the generator.</summary>
    sealed class RecordingGenerator(IGenerator inner) : IGenerator
    {
        public List<(Tensor Tokens, Tensor Labels)> Seen { get; } = [];
        public GeneratorInfo Info => inner.Info;
        public nn.Module Module => inner.Module;
        public IReadOnlyList<VocabularyParameter> VocabularyParameters => inner.VocabularyParameters;

        public GeneratorOutput Forward(TokenBatch batch)
        {
            var tokens = batch.Tokens.clone();
            var labels = batch.Labels.clone();
            tokens.DetachFromDisposeScope();
            labels.DetachFromDisposeScope();
            Seen.Add((tokens, labels));
            return inner.Forward(batch);
        }

        public Tensor Generate(Tensor labels, SamplingOptions options, torch.Generator? generator) => inner.Generate(labels, options, generator);
    }

    static List<(Tensor Tokens, Tensor Labels)> TrainerBatches(ITokenSource tokens, int steps)
    {
        var generator = new RecordingGenerator(FixturePluginCatalog.Generator(0));
        var objective = new GeneratorObjective(generator, tokens, new GeneratorLoss([new(new TokenCrossEntropy(), 1.0)]), labelDrop: 0.3, CPU);
        var sampler = new EpochSampler(tokens.Count, batchSize: 8, seed: 5);
        using var random = new torch.Generator(5);
        for (int step = 0; step < steps; step++)
            foreach (var loss in objective.Forward(sampler.Indices(step), random, BatchShare.Whole, maskKey: (ulong)step)) loss.Total.Dispose();
        return generator.Seen;
    }

    [Fact]
    public void The_trainer_reads_the_same_batches_from_extracted_codes_as_from_the_images_encoded_directly()
    {
        using var dir = new TempDir();
        using var images = TokenCacheTests.RandomImages(21, seed: 7);
        var tokenizer = FixturePluginCatalog.Tokenizer(0);
        LlamaGenCodeExtraction.Write(LlamaGenCodeFolders.At(dir.File("codes"), 8), tokenizer, images, LlamaGenAugmentation.Flip, batchSize: 5, CPU);
        using var extracted = Import(dir, dir.File("codes"));
        TokenCacheWriter.Write(dir.File("encoded.safetensors"), tokenizer, "h", images, withFlips: true, batchSize: 6, CPU);
        using var encoded = TokenCache.Open(dir.File("encoded.safetensors"), "h", images.Fingerprint);

        var fromCodes = TrainerBatches(extracted, steps: 6);
        var fromImages = TrainerBatches(encoded, steps: 6);
        Assert.Equal(6, fromCodes.Count);
        for (int s = 0; s < fromCodes.Count; s++)
        {
            TensorAssert.Identical(fromImages[s].Tokens, fromCodes[s].Tokens, $"tokens of step {s}");
            TensorAssert.Identical(fromImages[s].Labels, fromCodes[s].Labels, $"labels of step {s}");
        }
    }

    [Fact]
    public void Ten_crops_follow_torchvision_corners_then_centre_then_the_mirrors()
    {
        // A 5x5 image whose pixel is its position; crops of 3 (centre offset round(2 / 2) = 1).
        using var x = torch.arange(25, dtype: ScalarType.Float32).view(1, 1, 5, 5);
        using var crops = LlamaGenCodeExtraction.TenCrop(x, 3);   // [1, 10, 1, 3, 3]
        Assert.Equal(new long[] { 1, 10, 1, 3, 3 }, crops.shape);
        float Corner(int k) => crops[0, k, 0, 0, 0].item<float>();
        // top-left pixels: (0,0) (0,2) (2,0) (2,2) (1,1) of the image, then of its mirror (column c ↦ 4 − c).
        Assert.Equal(new float[] { 0, 2, 10, 12, 6, 4, 2, 14, 12, 8 }, Enumerable.Range(0, 10).Select(Corner).ToArray());
        // Python rounds half to even: an 8x8 image cut to 3 has its centre crop at round(2.5) = 2, pixel (2, 2) = 18.
        using var eight = torch.arange(64, dtype: ScalarType.Float32).view(1, 1, 8, 8);
        using var centre = LlamaGenCodeExtraction.TenCrop(eight, 3)[0, 4, 0, 0, 0];
        Assert.Equal(18f, centre.item<float>());
    }

    public static TheoryData<string, string, string> BadFiles => new()
    {
        // case, file it names, a phrase of the message
        { "wrong grid", "1.npy", "(1, A, 16)" },
        { "wrong vocabulary", "1.npy", "vocabulary of [0, 16)" },
        { "missing label file", "2.npy", "is missing" },
        { "label out of range", "0.npy", "classes are [0, 4)" },
        { "other augmentation count", "2.npy", "augmentations per image" },
        { "truncated", "1.npy", "needs 256 bytes of data" },
        { "huge shape", "1.npy", "needs" },
        { "too many augmentations", "1.npy", "at most 1024 values" },
        { "object dtype", "1.npy", "dtype '|O'" },
        { "fortran order", "1.npy", "Fortran" },
        { "not npy", "1.npy", "not an .npy array" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_file_gets_one_error_naming_it(string damage, string file, string phrase)
    {
        using var dir = new TempDir();
        var root = dir.File("codes");
        CopyFolder(Fixture("flip"), root);
        var folders = LlamaGenCodeFolders.At(root, 8);
        void Npy(string path, string header, byte[] data)
        {
            using var s = File.Create(path);
            var text = header.PadRight(64 - 10 - 1) + "\n";
            s.Write(NpyArray.Magic);
            s.Write([1, 0, (byte)text.Length, 0]);
            s.Write(System.Text.Encoding.ASCII.GetBytes(text));
            s.Write(data);
        }
        switch (damage)
        {
            case "wrong grid": folders.Write(1, new long[2, 9], 1); break;
            case "wrong vocabulary": var codes = new long[2, 16]; codes[1, 5] = 16; folders.Write(1, codes, 1); break;
            case "missing label file": File.Delete(folders.LabelFile(2)); break;
            case "label out of range": folders.Write(0, new long[2, 16], 4); break;
            case "other augmentation count": folders.Write(2, new long[10, 16], 2); break;
            case "truncated": var bytes = File.ReadAllBytes(folders.CodeFile(1)); File.WriteAllBytes(folders.CodeFile(1), bytes[..^8]); break;
            case "huge shape": Npy(folders.CodeFile(1), "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 4000000000, 16), }", new byte[64]); break;
            case "too many augmentations": Npy(folders.CodeFile(1), "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 65, 16), }", new byte[65 * 16]); break;
            case "object dtype": Npy(folders.CodeFile(1), "{'descr': '|O', 'fortran_order': False, 'shape': (1, 2, 16), }", new byte[256]); break;
            case "fortran order": Npy(folders.CodeFile(1), "{'descr': '<i8', 'fortran_order': True, 'shape': (1, 2, 16), }", new byte[256]); break;
            case "not npy": File.WriteAllText(folders.CodeFile(1), "not an array"); break;
        }
        var e = Assert.Throws<InvalidDataException>(() => Import(dir, root).Dispose());
        Assert.Contains(Path.DirectorySeparatorChar + file, e.Message);
        Assert.Contains(phrase, e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.safetensors*"));   // no cache, no temp file
    }

    [Fact]
    public void Crop_copies_with_other_labels_are_refused()
    {
        using var dir = new TempDir();
        CopyFolder(Fixture("c2i_flip_ten_crop"), dir.File("c2i_flip_ten_crop"));
        CopyFolder(Fixture("c2i_flip_ten_crop_105"), dir.File("c2i_flip_ten_crop_105"));
        LlamaGenCodeFolders.At(dir.File("c2i_flip_ten_crop_105"), 8).Write(1, new long[10, 16], 3);
        var e = Assert.Throws<InvalidDataException>(() => Import(dir, dir.File("c2i_flip_ten_crop")).Dispose());
        Assert.Contains("c2i_flip_ten_crop_105/imagenet8_labels/1.npy", e.Message);
    }

    [Fact]
    public void The_source_needs_its_image_folder_and_takes_no_flip()
    {
        static string[] Keys(DataSpec spec) => spec.Validate().Select(e => e.Key).ToArray();
        Assert.Empty(Keys(new DataSpec { Source = DataSource.LlamagenCodes, Path = "codes", Images = "images" }));
        Assert.Equal(["images"], Keys(new DataSpec { Source = DataSource.LlamagenCodes, Path = "codes" }));
        Assert.Equal(["flip"], Keys(new DataSpec { Source = DataSource.LlamagenCodes, Path = "codes", Images = "images", Flip = true }));
        Assert.Equal(["images"], Keys(new DataSpec { Source = DataSource.ImageFolder, Path = "data", Images = "images" }));
    }

    [Fact]
    public void Iar_extract_refuses_a_crop_range_without_ten_crops()
    {
        var r = CliRunner.Run("extract", "--images", "images", "-o", "codes", "--run", "run", "--crop-range", "1.2");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--crop-range 1.2 applies to --ten-crop only", r.Error);
    }

    [Fact]
    public void The_source_needs_the_checkpoint_of_the_tokenizer_that_extracted_the_codes()
    {
        const string yaml = """
            name: codes
            data: {source: llamagen-codes, path: codes, images: images}
            tokenizer: {plugin: FixturePlugin, preset: tiny}
            generator: {plugin: FixturePlugin, preset: tiny}
            """;
        var error = Assert.Single(Assert.Throws<ConfigValidationException>(() => ExperimentLoader.Parse(yaml, "/exp/codes.yaml", [])).Errors);
        Assert.Contains("data.source llamagen-codes needs tokenizer.checkpoint", error.Message);
        Assert.Equal("vq.safetensors", Path.GetFileName(ExperimentLoader.Parse(yaml, "/exp/codes.yaml", ["tokenizer.checkpoint=vq.safetensors"]).Spec.Tokenizer.Checkpoint));
    }
}
