using System.Reflection;
using IAR.Bench;
using IAR.Host.Native;

// Before anything loads libtorch (the host assembly's own initializer may not have run yet). IAR_LIBTORCH_DIR: a
// libtorch of the machine (the GPU kit, bench/gpu), loaded as the host's CLI does.
if (Environment.GetEnvironmentVariable(ExternalLibTorch.EnvironmentVariable) is { Length: > 0 } libtorch) ExternalLibTorch.Load(libtorch);
MklVendorPath.Apply();
GlibcMalloc.Apply();
Console.WriteLine($"MKL vendor path: {MklVendorPath.Status}");
Console.WriteLine($"malloc thresholds: {GlibcMalloc.Status}");

// Every IBenchmark in this assembly, by name.
var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToDictionary(b => b.Name);

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: dotnet run -c Release --project bench -- <benchmark>… | all");
    foreach (var b in benchmarks.Values) Console.WriteLine($"  {b.Name,-16} {b.Description}");
    return args.Length == 0 ? 2 : 0;
}
var selected = args.Contains("all") ? benchmarks.Keys.ToArray() : args;
foreach (var name in selected)
{
    if (!benchmarks.TryGetValue(name, out var bench))
    {
        Console.Error.WriteLine($"unknown benchmark '{name}'; available: {string.Join(", ", benchmarks.Keys)}");
        return 2;
    }
    var report = new BenchReport(bench.Name);
    bench.Run(report);
    if (bench.ComparesMklPaths && MklVendorPath.Active) MklPathComparison.Run(bench.Name, report);
    report.Print(Console.Out);
}
return 0;
