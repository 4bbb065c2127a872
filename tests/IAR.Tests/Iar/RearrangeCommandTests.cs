using IAR.ContractTests;
using IAR.Host.Iar;
using IAR.Host.Serialization;
using IAR.Tests.LlamaGen;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Iar;

/// <summary><c>iar rearrange</c> on a plain safetensors file and on a plugin tokenizer, and its errors.</summary>
public class RearrangeCommandTests
{
    const string Key = "quantize.embedding.weight";

    static string WriteCheckpoint(TempDir dir, Tensor codebook, string name = "vq.safetensors")
    {
        var path = dir.File(name);
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { [Key] = codebook, ["decoder.conv_in.weight"] = torch.ones(3, 3) },
            new Dictionary<string, string> { ["format"] = "pt" });
        return path;
    }

    [Fact]
    public void Rearranges_the_codebook_rows_of_a_safetensors_file_and_writes_the_permutation()
    {
        using var dir = new TempDir();
        using var codebook = IarTestData.Codebook(256, 8, modes: 12, seed: 1);
        var input = WriteCheckpoint(dir, codebook);
        var r = CliRunner.Run("rearrange", input, "--key", Key, "--cluster-size", "16", "-o", dir.File("out"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("16 of exactly 16 codes", r.Output);
        Assert.Contains("within-cluster error", r.Output);
        Assert.Contains("converged", r.Output);

        var (permutation, layout) = CodebookPermutation.Load(dir.File("out/permutation.safetensors"), expectedCount: 256);
        Assert.Equal(16, layout!.UniformSize);
        var output = SafeTensorsFile.Open(dir.File("out/vq.safetensors"));
        Assert.Equal(permutation.Hash, output.Metadata[CodebookPermutation.MetadataKey]);
        Assert.Equal("pt", output.Metadata["format"]);
        TensorAssert.Identical(codebook.index_select(0, permutation.NewToOldTensor()), output.Load(Key));
        TensorAssert.Identical(torch.ones(3, 3), output.Load("decoder.conv_in.weight"));
        using var newToOld = SafeTensorsFile.Open(dir.File("out/permutation.safetensors")).Load("new_to_old");
        Assert.Equal(ScalarType.Int64, newToOld.dtype);

        // The rearranged file cannot be rearranged again by mistake.
        var again = CliRunner.Run("rearrange", dir.File("out/vq.safetensors"), "--key", Key, "--clusters", "16", "-o", dir.File("again"));
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already rearranged", again.Error);
    }

    [Theory]
    [InlineData(new[] { "--cluster-size", "30" }, "--cluster-size = 30 does not divide the 256 codes")]
    [InlineData(new[] { "--clusters", "512" }, "--clusters = 512 is invalid for a codebook of 256 codes")]
    [InlineData(new[] { "--clusters", "4", "--cluster-size", "64" }, "not both")]
    [InlineData(new string[0], "Give --cluster-size")]
    [InlineData(new[] { "--clusters", "4", "--method", "spectral" }, "--method = 'spectral' is invalid; accepted: balanced-kmeans, random, kmeans, none")]
    public void Option_mistakes_exit_with_2_and_one_sentence(string[] options, string message)
    {
        using var dir = new TempDir();
        using var codebook = IarTestData.Codebook(256, 8, modes: 4, seed: 1);
        var input = WriteCheckpoint(dir, codebook);
        var r = CliRunner.Run(["rearrange", input, "--key", Key, "-o", dir.File("out"), .. options]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(message, r.Error);
        Assert.DoesNotContain("   at ", r.Error);
        Assert.False(File.Exists(dir.File("out/permutation.safetensors")));
    }

    [Fact]
    public void Input_mistakes_are_named()
    {
        using var dir = new TempDir();
        using var codebook = IarTestData.Codebook(64, 4, modes: 4, seed: 1);
        var input = WriteCheckpoint(dir, codebook);

        var missingKey = CliRunner.Run("rearrange", input, "--key", "codebook", "--clusters", "4", "-o", dir.File("out"));
        Assert.Equal(2, missingKey.ExitCode);
        Assert.Contains("has no tensor 'codebook'", missingKey.Error);
        Assert.Contains(Key, missingKey.Error);

        var noKey = CliRunner.Run("rearrange", input, "--clusters", "4", "-o", dir.File("out"));
        Assert.Equal(2, noKey.ExitCode);
        Assert.Contains("--key", noKey.Error);

        var both = CliRunner.Run("rearrange", input, "--key", Key, "--tokenizer", "LlamaGen/VQ-T", "--clusters", "4", "-o", dir.File("out"));
        Assert.Equal(2, both.ExitCode);

        var overwrite = CliRunner.Run("rearrange", input, "--key", Key, "--clusters", "4", "-o", dir.Path);
        Assert.Equal(2, overwrite.ExitCode);
        Assert.Contains("would overwrite the input", overwrite.Error);

        codebook[5, 1] = torch.tensor(float.NaN);
        var nan = WriteCheckpoint(dir, codebook, "nan.safetensors");
        var bad = CliRunner.Run("rearrange", nan, "--key", Key, "--clusters", "4", "-o", dir.File("out"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("row 5", bad.Error);

        File.WriteAllText(dir.File("broken.safetensors"), "not a safetensors file");
        var broken = CliRunner.Run("rearrange", dir.File("broken.safetensors"), "--key", Key, "--clusters", "4", "-o", dir.File("out"));
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("is not a valid safetensors file", broken.Error);
    }

    [Fact]
    public void Rearranges_a_plugin_tokenizer_checkpoint()
    {
        using var dir = new TempDir();
        var tokenizer = LlamaGenTestModels.Tokenizer(seed: 0);
        StateDict.Save(tokenizer.Module, dir.File("vq-t.safetensors"));
        var r = CliRunner.Run("rearrange", "--tokenizer", "LlamaGen/VQ-T", "--checkpoint", dir.File("vq-t.safetensors"),
            "--image", "1x8x8", "--clusters", "8", "--plugins", RepoPaths.BuiltPlugins, "-o", dir.File("out"));
        Assert.True(r.ExitCode == 0, r.ToString());

        var (permutation, _) = CodebookPermutation.Load(dir.File("out/permutation.safetensors"), tokenizer.Info.VocabularySize);
        var loaded = RearrangedTokenizer.Load(LlamaGenTestModels.Tokenizer(seed: 5), dir.File("out/tokenizer.safetensors"), permutation);
        var view = new RearrangedTokenizer(tokenizer, permutation);
        tokenizer.Module.eval();
        loaded.Module.eval();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        TensorAssert.Identical(view.Codebook, loaded.Codebook);
        var images = ContractSeeds.Images(2, tokenizer.Info.Image);
        TensorAssert.Identical(view.Encode(images), loaded.Encode(images));
    }
}
