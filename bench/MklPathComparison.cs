using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using IAR.Host.Native;

namespace IAR.Bench;

/// <summary>
/// The same benchmark with MKL's generic path, for a same-run comparison: the vendor path is decided once per
/// process before libtorch loads, so the benchmark runs again in a child process with
/// <c>IAR_MKL_VENDOR_PATH=off</c>, and its JSON lines come back as rows suffixed <c>[MKL generic]</c>.
/// </summary>
internal static class MklPathComparison
{
    public const string Suffix = " [MKL generic]";

    public static void Run(string bench, BenchReport report)
    {
        var assembly = Assembly.GetEntryAssembly()!.Location;
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(assembly);
        start.ArgumentList.Add(bench);
        start.Environment[MklVendorPath.EnvironmentVariable] = "off";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{bench} with {MklVendorPath.EnvironmentVariable}=off exited with {process.ExitCode}.");
        foreach (var line in output.Split('\n').Where(l => l.StartsWith('{')))
        {
            using var json = JsonDocument.Parse(line);
            var context = new Dictionary<string, object>();
            string measure = "", unit = "";
            double median = 0, min = 0, max = 0;
            int n = 0;
            foreach (var property in json.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "bench": break;
                    case "measure": measure = property.Value.GetString()!; break;
                    case "unit": unit = property.Value.GetString()!; break;
                    case "median": median = property.Value.GetDouble(); break;
                    case "min": min = property.Value.GetDouble(); break;
                    case "max": max = property.Value.GetDouble(); break;
                    case "n": n = property.Value.GetInt32(); break;
                    default: context[property.Name] = property.Value.Clone(); break;
                }
            }
            report.Add(measure + Suffix, median, n, min, max, unit, context);
        }
    }
}
