using TorchSharp;

namespace IAR.ContractTests;

/// <summary>
/// Saves a module's state dict and loads it into another module of the same architecture (TorchSharp's own format,
/// strict: every key and shape must match), so the contract tests need nothing of the host.
/// </summary>
public static class StateDictRoundTrip
{
    public static void Copy(torch.nn.Module from, torch.nn.Module to, string what)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            from.save(writer);
        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        try
        {
            to.load(reader, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The {what}'s state dict does not load into a second {what} of the same preset: {e.Message}", e);
        }
    }
}
