using IAR.Host.Serialization;
using IAR.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Tests.LlamaGen;

/// <summary>Checkpoints with official key names load into both models; broken ones are refused, naming the key.</summary>
public class LlamaGenCheckpointTests
{
    public static TheoryData<string> Models => new() { "GPT", "VQ" };

    static nn.Module Build(string model) => model == "GPT"
        ? LlamaGenTestModels.Generator().Module
        : LlamaGenTestModels.Tokenizer(options: new Dictionary<string, string> { ["codebook_show_usage"] = "true" }).Module;

    static string Write(TempDir dir, Dictionary<string, Tensor> tensors)
    {
        var path = Path.Combine(dir.Path, "checkpoint.safetensors");
        SafeTensorsWriter.Write(path, tensors, null);
        return path;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_checkpoint_with_a_missing_key_is_refused_naming_it(string model)
    {
        using var dir = new TempDir();
        var state = Build(model).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var key = state.Keys.First(k => k.EndsWith(".weight", StringComparison.Ordinal));
        state.Remove(key);
        var e = Assert.Throws<InvalidDataException>(() => StateDict.Load(Build(model), Write(dir, state), model));
        Assert.Contains($"missing keys: {key}", e.Message);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_checkpoint_with_an_extra_key_is_refused_naming_it(string model)
    {
        using var dir = new TempDir();
        var state = Build(model).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        state["discriminator.conv.weight"] = torch.zeros(3);
        var e = Assert.Throws<InvalidDataException>(() => StateDict.Load(Build(model), Write(dir, state), model));
        Assert.Contains("unexpected keys: discriminator.conv.weight", e.Message);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_checkpoint_with_a_misshaped_key_is_refused_naming_it(string model)
    {
        using var dir = new TempDir();
        var state = Build(model).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var key = model == "GPT" ? "tok_embeddings.weight" : "quantize.embedding.weight";
        state[key] = torch.zeros(state[key].shape[0] + 1, state[key].shape[1]);
        var e = Assert.Throws<InvalidDataException>(() => StateDict.Load(Build(model), Write(dir, state), model));
        Assert.Contains($"wrong shapes: {key}", e.Message);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_checkpoint_saved_by_torch_compile_loads(string model)
    {
        using var dir = new TempDir();
        var source = Build(model);
        var state = source.state_dict().ToDictionary(kv => StateDict.CompiledPrefix + kv.Key, kv => kv.Value);
        var target = model == "GPT" ? LlamaGenTestModels.Generator(seed: 9).Module
            : LlamaGenTestModels.Tokenizer(seed: 9, options: new Dictionary<string, string> { ["codebook_show_usage"] = "true" }).Module;
        StateDict.Load(target, Write(dir, state), model);
        foreach (var (key, tensor) in source.state_dict()) Assert.True(tensor.equal(target.state_dict()[key]).all().item<bool>(), key);
    }
}
