using System.Text.RegularExpressions;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Native;

/// <summary>Turns <c>auto | cpu | cuda | cuda:N</c> into a torch device, or says why it cannot.</summary>
public static class DeviceSelector
{
    /// <exception cref="ConfigurationException">CUDA was asked for but is not available (the reason is given).</exception>
    public static Device Resolve(string spec)
    {
        if (spec == "cpu") return CPU;
        bool available = torch.cuda.is_available();
        if (spec == "auto") return available ? CUDA : CPU;
        var m = Regex.Match(spec, "^cuda(?::([0-9]+))?$");
        if (!m.Success) throw new ConfigurationException($"device '{spec}' is invalid; auto, cpu, cuda or cuda:N is accepted.");
        if (!available) throw new ConfigurationException($"device '{spec}' was requested but CUDA is not available: {TorchRuntime.CudaUnavailableReason()}");
        int index = m.Groups[1].Success ? int.Parse(m.Groups[1].Value) : 0;
        int count = torch.cuda.device_count();
        if (index >= count) throw new ConfigurationException($"device '{spec}' does not exist; this machine has {count} CUDA device(s).");
        return new Device(DeviceType.CUDA, index);
    }
}
