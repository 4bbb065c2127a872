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
/// <c>iar-fuzz TARGET</c>: reads one input from afl++ and hands it to one file reader.
/// The refusals a reader promises (<see cref="InvalidDataException"/>, <see cref="ConfigurationException"/>) are the
/// expected outcome; any other exception, a crash, a hang or an allocation past afl's memory limit is a finding.
/// SharpFuzz's out-of-process loop: inputs run in a child process that the loop restarts when it dies, so a hang (afl
/// kills the child after its -t) or a stack overflow is saved as a finding with its input. In the in-process loop
/// (Fuzzer.Run) the fork server itself is what hangs or dies, and afl aborts with "Unable to communicate with fork
/// server" and no input: what CI printed on the yaml target. That input is lost; the two causes found since are both
/// refused now: an alias before its anchor as a mapping key, which overflowed YamlDotNet's stack (YamlLimits), and a
/// sweep's product, 4 keys × 12 values = 20,736 arms and 14 s to read (ExperimentLoader.MaxArms, YamlLimits.MaxArmNodes).
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
        // The header alone (what the npz reader checks per entry), then the integer reader of LlamaGen's code files.
        ["npy"] = (input, path) =>
        {
            NpyArray.ReadHeader(new MemoryStream(input), input.Length, "fuzz.npy");
            File.WriteAllBytes(path, input);
            NpyArray.ReadIntegers(path, maxElements: 1 << 20);
        },
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
        ["tensorboard"] = (input, path) =>
        {
            File.WriteAllBytes(path, input);
            _ = TensorBoardEvents.Read(path).Count;
        },
    };

    /// <summary>
    /// <c>iar-fuzz seed DIR</c>: the seeds only the product's own writers can make (make_seeds.py makes the rest with
    /// the standard library): DIR/tensorboard/ gets an event file from <see cref="TensorBoardEvents"/> with its version
    /// record, a step of two scalars (one NaN, one at step 0's default) and a small image summary.
    /// </summary>
    static void WriteSeeds(string folder)
    {
        var events = new TensorBoardEvents(Path.Combine(folder, "tensorboard"));
        var time = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);   // fixed, so the seed is the same on every run
        events.Scalars(0, [new("generator/loss", 2.5), new("generator/lr", double.NaN)], time);
        events.Scalars(-3, [new("eval/fid", 12.25)], time);
        events.Image(20, "samples/grid", [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3], 4, 6, time);
    }

    public static int Main(string[] args)
    {
        if (args is ["seed", var folder])
        {
            WriteSeeds(folder);
            return 0;
        }
        if (args.Length < 1 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: iar-fuzz TARGET [FILE] | iar-fuzz seed DIR; targets: {string.Join(", ", Targets.Keys)}");
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
        Fuzzer.OutOfProcess.Run(run);
        return 0;
    }
}
