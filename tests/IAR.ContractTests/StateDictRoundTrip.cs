using IAR.Host.Serialization;
using TorchSharp;

namespace IAR.ContractTests;

/// <summary>Saves a module's state dict to safetensors and loads it into another module.</summary>
public static class StateDictRoundTrip
{
    public static void Copy(torch.nn.Module from, torch.nn.Module to, string what)
    {
        var path = Path.Combine(Path.GetTempPath(), $"iar-contract-{Guid.NewGuid():N}.safetensors");
        try
        {
            StateDict.Save(from, path);
            StateDict.Load(to, path, what);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
