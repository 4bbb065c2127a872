using System.Diagnostics;
using System.Text.Json;

namespace IAR.Bench;

/// <summary>
/// A reference BLAS figure for the same GEMMs: NumPy's <c>matmul(a, b, out=c)</c> on Debian's python3-numpy, which
/// links OpenBLAS (<c>apt-get install python3-numpy python3-threadpoolctl</c>). Skipped, with a note, when absent.
/// </summary>
internal static class OpenBlasReference
{
    // Mirrors MatmulPeakBenchmark.Gflops: warm-up, batches of ~0.1 s, one JSON line of samples per size.
    const string Script = """
        import json, sys, time
        import numpy as np
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        kernel = f"{info[0]['internal_api']} {info[0]['version']} {info[0]['architecture']}, {info[0]['num_threads']} threads" if info else "unknown BLAS"
        samples = int(sys.argv[1])
        for n in map(int, sys.argv[2:]):
            rng = np.random.default_rng(0)
            a = rng.standard_normal((n, n), dtype=np.float32); b = rng.standard_normal((n, n), dtype=np.float32)
            c = np.empty((n, n), np.float32)
            t = time.perf_counter()
            for _ in range(3): np.matmul(a, b, out=c)
            batch = max(1, int(0.1 / ((time.perf_counter() - t) / 3)))
            gflops = []
            for _ in range(samples):
                t = time.perf_counter()
                for _ in range(batch): np.matmul(a, b, out=c)
                gflops.append(2.0 * n ** 3 * batch / (time.perf_counter() - t) / 1e9)
            print(json.dumps({"n": n, "gflops": gflops, "kernel": kernel}))
        """;

    public static void Run(BenchReport report, IReadOnlyList<int> sizes, int samples)
    {
        var start = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", Script, samples.ToString() }.Concat(sizes.Select(n => n.ToString()))) start.ArgumentList.Add(arg);
        // Set here for old OpenBLAS builds that misdetect some CPUs; they pin a slower kernel (see the README's notes).
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment.Remove("OPENBLAS_L2_SIZE");
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"matmul: no OpenBLAS reference (python3 with numpy and threadpoolctl failed: {error.Trim().Split('\n')[^1]})");
                return;
            }
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                var gflops = root.GetProperty("gflops").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                report.Add($"numpy/OpenBLAS fp32 {root.GetProperty("n").GetInt32()}²", gflops, "GFLOP/s",
                    new Dictionary<string, object> { ["blas"] = root.GetProperty("kernel").GetString()! });
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"matmul: no OpenBLAS reference (python3 could not be started: {e.Message})");
        }
    }
}
