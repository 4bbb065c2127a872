using System.Text.RegularExpressions;
using IAR.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace IAR.Host.Native;

/// <summary>
/// Turns <c>auto | cpu | cuda | cuda:N</c> into a torch device, or says why it cannot, and applies the device switches
/// of the environment first.
/// </summary>
public static class DeviceSelector
{
    /// <summary>
    /// <c>IAR_TF32=on|off</c>: whether CUDA fp32 matmuls may use TF32 tensor cores (10-bit mantissa inputs, fp32
    /// accumulation), i.e. <c>torch.backends.cuda.matmul.allow_tf32</c>. Unset keeps libtorch's default, off as in
    /// PyTorch since 1.12. cuDNN's own switch (convolutions, on by default) is left as libtorch sets it. No effect on CPU.
    /// </summary>
    public const string Tf32Variable = "IAR_TF32";

    /// <exception cref="ConfigurationException">CUDA was asked for but is not available (the reason is given).</exception>
    public static Device Resolve(string spec)
    {
        ApplySwitches();
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

    /// <summary>Sets <c>allow_tf32</c> from <see cref="Tf32Variable"/> when it is set.</summary>
    /// <exception cref="ConfigurationException">The variable holds something other than on or off.</exception>
    public static void ApplySwitches()
    {
        if (Tf32Requested() is bool on) torch.backends.cuda.matmul.allow_tf32 = on;
    }

    /// <summary>TF32 for CUDA matmuls as <c>iar doctor</c> reports it: on or off, and where that comes from.</summary>
    public static string Tf32Status()
    {
        ApplySwitches();
        string state = torch.backends.cuda.matmul.allow_tf32 ? "on" : "off";
        return Tf32Requested() is null ? $"{state} (libtorch's default; {Tf32Variable}=on|off sets it)" : $"{state} ({Tf32Variable})";
    }

    static bool? Tf32Requested() => Environment.GetEnvironmentVariable(Tf32Variable) switch
    {
        null or "" => null,
        var v when v.Equals("on", StringComparison.OrdinalIgnoreCase) => true,
        var v when v.Equals("off", StringComparison.OrdinalIgnoreCase) => false,
        var v => throw new ConfigurationException($"{Tf32Variable}='{v}' is invalid; on or off is accepted (unset keeps libtorch's default, off)."),
    };
}
