using System.Security.Cryptography;
using System.Text;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Training;

/// <summary>
/// A content hash of a model: its identity and every tensor of its state dict (names, dtypes, shapes, bytes).
/// Token caches and generator checkpoints record the tokenizer's, so tokens are never paired with another tokenizer.
/// </summary>
public static class ModelFingerprint
{
    /// <summary>First 16 hex characters of the SHA-256.</summary>
    public static string Of(nn.Module module, string identity)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(identity + "\n"));
        foreach (var (name, tensor) in module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}:{tensor.dtype}:[{string.Join(",", tensor.shape)}]\n"));
            using var cpu = tensor.detach().cpu().contiguous();
            if (cpu.NumberOfElements > 0) hash.AppendData(cpu.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>The tokenizer's hash: its plugin, preset, vocabulary, layout and image shape, and its weights.</summary>
    public static string Of(ITokenizer tokenizer)
    {
        var i = tokenizer.Info;
        return Of(tokenizer.Module, $"{i.Plugin}/{i.Preset} V={i.VocabularySize} D={i.CodeDim} layout={i.Layout} image={i.Image}");
    }
}
