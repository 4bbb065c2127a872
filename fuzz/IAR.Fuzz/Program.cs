using System.Text;
using IAR.Abstractions;
using IAR.Host.Iar;
using IAR.Host.Data;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Host.Serialization;
using SharpFuzz;
using static TorchSharp.torch;

namespace IAR.Fuzz;

/// <summary>
/// <c>iar-fuzz TARGET</c>: reads one input from afl++ (SharpFuzz's persistent loop) and hands it to one file reader.
/// The refusals a reader promises (<see cref="InvalidDataException"/>, <see cref="ConfigurationException"/>) are the
/// expected outcome; any other exception, a crash, a hang or an allocation past afl's memory limit is a finding.
/// Readers that take a path get the input as a file (one per process; afl runs one input at a time).
/// </summary>
public static class Program
{
    /// <summary>A budget small enough that the fuzzer's memory limit is never the thing that stops a large request.</summary>
    const string Budget = "64M";

    static readonly Dictionary<string, Action<byte[], string>> Targets = new(StringComparer.Ordinal)
    {
        ["pickle"] = (input, _) => new RestrictedUnpickler(new MemoryStream(input), input.Length, "fuzz.pkl",
            LoadBudget.Fixed("fuzz.pkl", 64L << 20), _ => new TorchStorageRef("0", ScalarType.Float32, 16)).Load(),
        ["pt"] = (input, path) =>
        {
            File.WriteAllBytes(path, input);
            using var read = CheckpointFile.Read(path);
            _ = read.Metadata.Count;
        },
        ["safetensors"] = (input, path) =>
        {
            File.WriteAllBytes(path, input);
            foreach (var t in SafeTensorsFile.Open(path).LoadAll().Values) t.Dispose();
        },
        ["npy"] = (input, _) => NpyArray.ReadHeader(new MemoryStream(input), input.Length, "fuzz.npy"),
        ["npz"] = (input, path) =>
        {
            File.WriteAllBytes(path, input);
            using var reader = AdmSampleReader.Open(path);
            foreach (var batch in reader.Batches(4)) batch.Dispose();
        },
        ["idx"] = (input, path) =>
        {
            File.WriteAllBytes(path, input);
            _ = IdxFile.Read(path).ItemSize;
        },
        ["tokencache"] = (input, path) =>
        {
            File.WriteAllBytes(path, input);
            // The tokenizer the cache names, so the reader goes past the pairing check into shapes and ranges.
            var tokenizer = SafeTensorsFile.Open(path).Metadata.GetValueOrDefault(TokenCache.Keys.Tokenizer, "");
            using var cache = TokenCache.Open(path, tokenizer, null);
            if (cache.Count > 0) _ = cache.Gather(tensor(new long[] { 0 }));   // disposed by the scope around the target
        },
        ["permutation"] = (input, path) =>
        {
            File.WriteAllBytes(path, input);
            _ = CodebookPermutation.Load(path);
        },
        ["yaml"] = (input, _) => ExperimentLoader.Parse(Encoding.UTF8.GetString(input), "fuzz.yaml", []),
    };

    public static int Main(string[] args)
    {
        if (args.Length < 1 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: iar-fuzz TARGET [FILE]; targets: {string.Join(", ", Targets.Keys)}");
            return 2;
        }
        Environment.SetEnvironmentVariable(LoadBudget.EnvironmentVariable, Budget);
        var path = Path.Combine(Path.GetTempPath(), $"iar-fuzz-{args[0]}-{Environment.ProcessId}");
        Action<Stream> run = stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            try
            {
                using var scope = NewDisposeScope();
                target(buffer.ToArray(), path);
            }
            catch (Exception e) when (e is InvalidDataException or ConfigurationException)
            {
                // The promised refusal: one sentence, no crash.
            }
        };
        if (args.Length > 1)
        {
            // Replays one file outside afl (a regression check, or to see the stack of a finding).
            using var file = File.OpenRead(args[1]);
            run(file);
            return 0;
        }
        Fuzzer.Run(run);
        return 0;
    }
}
