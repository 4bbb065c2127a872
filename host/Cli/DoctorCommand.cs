using System.CommandLine;
using IAR.Host.Native;
using Spectre.Console;
using TorchSharp;

namespace IAR.Host.Cli;

/// <summary><c>iar doctor</c>: what this machine runs on — libtorch, threads, devices, and why CUDA is unavailable.</summary>
public static class DoctorCommand
{
    public static Command Build(CliContext ctx)
    {
        var command = new Command("doctor", "Show libtorch version, device, threads and CUDA availability.");
        command.SetAction(parse => CommandGuard.Run(ctx, parse.GetValue(CommonOptions.Verbose), () =>
        {
            var table = new Table().AddColumns("check", "result");
            table.AddRow("TorchSharp", TorchRuntime.TorchSharpVersion);
            table.AddRow("libtorch", Markup.Escape(TorchRuntime.LibTorchVersion));
            table.AddRow("natives", Markup.Escape(ExternalLibTorch.LoadedFrom is { } external
                ? $"external libtorch {external} (bridge in {TorchRuntime.NativeDirectory})"
                : $"bundled, {TorchRuntime.NativeDirectory}"));
            table.AddRow("system libstdc++", TorchRuntime.SystemGlibcxx() ?? "not found");
            table.AddRow("threads", $"{torch.get_num_threads()} (of {Environment.ProcessorCount} cores)");
            using (var a = torch.ones(64, 64))
            using (var b = a.matmul(a))
                table.AddRow("tensor op", $"ones(64,64) @ ones(64,64) sums to {b.sum().item<float>():F0} (expected {64 * 64 * 64})");
            bool cuda = torch.cuda.is_available();
            table.AddRow("CUDA", cuda ? $"available, {torch.cuda.device_count()} device(s)" : Markup.Escape("not available: " + TorchRuntime.CudaUnavailableReason()));
            table.AddRow("device (auto)", cuda ? "cuda" : "cpu");
            ctx.Out.Write(table);
            return ExitCodes.Success;
        }));
        return command;
    }
}
