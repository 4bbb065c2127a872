using System.Diagnostics;
using IAR.Abstractions;
using IAR.ContractTests;
using IAR.Host.Data;
using IAR.Host.Plugins;
using IAR.Host.Runs;
using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.Data;

/// <summary>
/// A tokenizer trained by <c>iar run --prepare</c> on a tiny image folder cut from Fashion-MNIST (3 classes of 6
/// training images, 16 px, one channel: the fixture plugin's 8x8 tokens, V = 16), once for the class; with
/// <c>data.flip: true</c> its <c>tokens/train.safetensors</c> holds every image and its mirror encoded directly.
/// </summary>
public sealed class PreparedImageFolderRun : IDisposable
{
    public const int Classes = 3, PerClass = 6, Count = Classes * PerClass, Size = 16, Length = 64;

    public TempDir Dir { get; } = new();

    public string Plugins => Dir.File("plugins");

    public string Images => Dir.File("images");

    public string Run => Dir.File("run");

    public string TrainImages => Path.Combine(Images, "train");

    public string TokenizerWeights => Path.Combine(Run, RunLayout.TokenizerWeightsFile);

    public PreparedImageFolderRun()
    {
        FixturePluginBuild.InstallInto(Plugins);
        FashionMnistImageFolder.Write(Images, Classes, PerClass, heldOutPerClass: 3);
        var experiment = Dir.Write("images.yaml", $$"""
            name: tiny-image-folder
            seed: 1
            threads: 1
            data: {source: image-folder, path: {{Images}}, image_size: {{Size}}, channels: 1, flip: true}
            tokenizer:
              plugin: FixturePlugin
              preset: tiny
              training: {steps: 10, batch_size: 8, checkpoint_every: 40, log_every: 5, lr: 0.01, warmup_steps: 2}
            generator: {plugin: FixturePlugin, preset: tiny}
            training: {steps: 10, batch_size: 8, checkpoint_every: 40, log_every: 5, lr: 0.05, warmup_steps: 2}
            evaluation: {metrics: [token-metrics], every: 10}
            """);
        var r = CliRunner.Run("run", experiment, "--plugins", Plugins, "--run-dir", Run, "--prepare");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    /// <summary>The run's trained tokenizer, loaded apart from the command under test.</summary>
    public ITokenizer Tokenizer()
    {
        var tokenizer = PluginCatalog.Load(Plugins).TokenizerFactory("FixturePlugin", "tiny")
            .Create(new TokenizerRequest("tiny", new Dictionary<string, string>(), new ImageShape(1, Size, Size)));
        StateDict.Load(tokenizer.Module, TokenizerWeights, "tokenizer");
        tokenizer.Module.eval();
        return tokenizer;
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary>
/// <c>iar extract</c> on real images, read back by numpy, equal to the tokenizer's own codes of the flipped and
/// ten-cropped images; and a whole <c>iar run</c> with <c>data.source: llamagen-codes</c> on its output.
/// </summary>
public class LlamaGenCodesCliTests(PreparedImageFolderRun run) : IClassFixture<PreparedImageFolderRun>
{
    /// <summary>
    /// numpy's view of a code path: the file counts of both folders (no temp files left), then per image
    /// "dtype shape dtype shape label hex-of-codes" as <c>np.load</c> gives them (LlamaGen's reader does the same).
    /// </summary>
    static string[] NumpyView(string codePath, int count)
    {
        const string script = "import os, sys, numpy as np\n"
            + "codes, labels, n = sys.argv[1] + '/imagenet16_codes', sys.argv[1] + '/imagenet16_labels', int(sys.argv[2])\n"
            + "print(len(os.listdir(codes)), len(os.listdir(labels)))\n"
            + "for i in range(n):\n"
            + "    c, l = np.load(f'{codes}/{i}.npy'), np.load(f'{labels}/{i}.npy')\n"
            + "    print(c.dtype, c.shape, l.dtype, l.shape, int(l[0]), c.tobytes().hex())\n";
        var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", script, codePath, count.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var python = Process.Start(psi) ?? throw new Xunit.Sdk.XunitException("python3 did not start");
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, $"python3 with numpy (apt-get install python3-numpy) could not load the codes: {stderr}");
        return stdout.Result.TrimEnd('\n').Split('\n');
    }

    /// <summary>What numpy must print for <paramref name="codes"/> (int64 [N, A, L]) with labels i / PerClass.</summary>
    static string[] Expected(Tensor codes)
    {
        long n = codes.shape[0], a = codes.shape[1], l = codes.shape[2];
        var lines = new List<string> { $"{n} {n}" };
        for (long i = 0; i < n; i++)
        {
            var values = codes[i].contiguous().data<long>().ToArray();
            var hex = Convert.ToHexStringLower(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            lines.Add($"int64 (1, {a}, {l}) int64 (1,) {i / PreparedImageFolderRun.PerClass} {hex}");
        }
        return [.. lines];
    }

    string Extract(params string[] more)
    {
        var codes = run.Dir.File($"codes-{Guid.NewGuid():N}");
        var r = CliRunner.Run(["extract", "--images", run.TrainImages, "-o", codes, "--plugins", run.Plugins, "--batch-size", "5", .. more]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"wrote {PreparedImageFolderRun.Count} ×", r.Output);
        return codes;
    }

    [Fact]
    public void Iar_extract_with_a_run_writes_each_images_codes_and_its_mirrors_as_numpy_reads_them()
    {
        var codes = Extract("--run", run.Run);

        var tokenizer = run.Tokenizer();
        using var images = ImageFolderDataset.Open(run.TrainImages, 1, PreparedImageFolderRun.Size);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = images.Images(torch.arange((long)PreparedImageFolderRun.Count));           // [N, 1, 16, 16]
        var expected = torch.stack([tokenizer.Encode(x), tokenizer.Encode(x.flip(3))], 1);   // [N, 2, 64]
        Assert.Equal(Expected(expected), NumpyView(codes, PreparedImageFolderRun.Count));
    }

    [Fact]
    public void Iar_extract_with_a_preset_and_checkpoint_writes_torchvisions_ten_crops_as_numpy_reads_them()
    {
        var codes = Extract("--tokenizer", "FixturePlugin/tiny", "--tokenizer-checkpoint", run.TokenizerWeights,
            "--image-size", "16", "--channels", "1", "--ten-crop", "--crop-range", "1.3");

        var tokenizer = run.Tokenizer();
        using var images = ImageFolderDataset.Open(run.TrainImages, 1, 20);   // int(16 × 1.3) = 20, as extract_codes_c2i.py
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = images.Images(torch.arange((long)PreparedImageFolderRun.Count));   // [N, 1, 20, 20]
        // torchvision's TenCrop(16) of 20 px: corners at 0 and 20 − 16 = 4, the centre at round(4 / 2) = 2; then the mirror's.
        (long Top, long Left)[] corners = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2)];
        var crops = new[] { x, x.flip(3) }.SelectMany(image => corners.Select(c => tokenizer.Encode(image.narrow(2, c.Top, 16).narrow(3, c.Left, 16))));
        var expected = torch.stack(crops.ToArray(), 1);   // [N, 10, 64]
        Assert.Equal(Expected(expected), NumpyView(codes, PreparedImageFolderRun.Count));
    }

    [Fact]
    public void Iar_extract_refuses_a_code_path_holding_another_extractions_files_and_rewrites_its_own()
    {
        var codes = Extract("--run", run.Run);
        var again = CliRunner.Run("extract", "--images", run.TrainImages, "-o", codes, "--plugins", run.Plugins, "--run", run.Run);
        Assert.True(again.ExitCode == 0, again.ToString());
        var stale = Path.Combine(codes, "imagenet16_labels", $"{PreparedImageFolderRun.Count}.npy");   // image N of a larger extraction
        File.Copy(Path.Combine(codes, "imagenet16_labels", "0.npy"), stale);
        var r = CliRunner.Run("extract", "--images", run.TrainImages, "-o", codes, "--plugins", run.Plugins, "--run", run.Run);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains($"already holds {stale}, which is not one of this extraction's {PreparedImageFolderRun.Count} images", r.Error);
    }

    [Fact]
    public void A_run_on_codes_from_iar_extract_trains_on_the_tokens_its_images_encode_to_evaluates_and_reports()
    {
        var codes = Extract("--run", run.Run);
        var experiment = run.Dir.Write($"codes-{Guid.NewGuid():N}.yaml", $$"""
            name: tiny-llamagen-codes
            seed: 1
            threads: 1
            data: {source: llamagen-codes, path: {{codes}}, images: {{run.Images}}, image_size: 16, channels: 1}
            tokenizer: {plugin: FixturePlugin, preset: tiny, checkpoint: {{run.TokenizerWeights}}}
            generator: {plugin: FixturePlugin, preset: tiny}
            training: {steps: 20, batch_size: 8, checkpoint_every: 40, log_every: 10, lr: 0.05, warmup_steps: 2, label_drop: 0.2}
            evaluation: {metrics: [token-metrics], every: 10}
            """);
        var runDir = run.Dir.File($"run-codes-{Guid.NewGuid():N}");
        var r = CliRunner.Run("run", experiment, "--plugins", run.Plugins, "--run-dir", runDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("\"state\": \"complete\"", File.ReadAllText(Path.Combine(runDir, "status.json")));

        // The training tokens are those the prepare step of the image-folder run encoded from the same images and mirrors.
        var imported = SafeTensorsFile.Open(Path.Combine(runDir, RunLayout.TokensFile("train")));
        var direct = SafeTensorsFile.Open(Path.Combine(run.Run, RunLayout.TokensFile("train")));
        Assert.Equal(new long[] { PreparedImageFolderRun.Count, 2, PreparedImageFolderRun.Length }, imported.Entry("tokens").Shape);
        using (var expectedTokens = direct.Load("tokens"))
        using (var tokens = imported.Load("tokens"))
            TensorAssert.Identical(expectedTokens, tokens, "training tokens");
        using (var expectedLabels = direct.Load("labels"))
        using (var labels = imported.Load("labels"))
            TensorAssert.Identical(expectedLabels, labels, "training labels");
        Assert.Equal(direct.Metadata[TokenCache.Keys.Tokenizer], imported.Metadata[TokenCache.Keys.Tokenizer]);
        Assert.Equal(LlamaGenCodeImport.Fingerprint(LlamaGenCodeImport.Copies(codes, 16)), imported.Metadata[TokenCache.Keys.Data]);   // read from the codes, not re-encoded

        var generator = SafeTensorsFile.Open(Path.Combine(runDir, "arms/baseline/seed-1/generator.safetensors")).Metadata;
        Assert.Equal(imported.Metadata[TokenCache.Keys.Tokenizer], generator["iar.tokenizer"]);
        var records = MetricsLog.ReadRun(runDir).Select(x => x.GetRawText()).ToArray();
        Assert.Contains(records, x => x.Contains("\"stage\":\"generator\"") && x.Contains("\"loss/token_ce\""));
        Assert.Contains(records, x => x.Contains("\"stage\":\"eval\"") && x.Contains("\"token_nll\""));
        Assert.Contains("baseline", File.ReadAllText(Path.Combine(runDir, "report.md")));
    }
}
