using IAR.Tests.Support;

namespace IAR.Tests.Training;

/// <summary>
/// A whole <c>iar run</c> in seconds: the fixture plugin's tokenizer and generator on 16x16 Fashion-MNIST from the
/// bundled subset (64 tokens per image, V = 16), flips, EMA and label dropout on, a checkpoint every 40 steps. One
/// libtorch thread: these models are too small to gain from two, and two threads contend badly on a busy machine.
/// Evaluation defaults to the held-out token metrics every 20 steps (no feature extractor to train).
/// </summary>
internal sealed class TinyExperiment : IDisposable
{
    public TempDir Dir { get; } = new();

    public string Plugins => Dir.File("plugins");

    public TinyExperiment(int steps = 200, string extra = "", string evaluation = "{metrics: [token-metrics], every: 20}")
    {
        FixturePluginBuild.InstallInto(Plugins);
        var data = Path.Combine(RepoPaths.Experiments, "data", "fashion-mnist-subset");
        File = Dir.Write("exp.yaml", $"""
            name: tiny
            seed: 1
            threads: 1
            data: {"{"}path: {data}, image_size: 16, train_limit: 1000, test_limit: 200, flip: true{"}"}
            tokenizer:
              plugin: FixturePlugin
              preset: tiny
              training: {"{"}steps: {steps}, batch_size: 16, checkpoint_every: 40, log_every: 20, lr: 0.01, warmup_steps: 5{"}"}
            generator: {"{"}plugin: FixturePlugin, preset: tiny{"}"}
            training: {"{"}steps: {steps}, batch_size: 16, checkpoint_every: 40, log_every: 20, lr: 0.05, warmup_steps: 5, ema: 0.9, label_drop: 0.2{"}"}
            evaluation: {evaluation}
            {extra}
            """);
    }

    public string File { get; }

    public string Run(string name) => Dir.File(name);

    public string[] Arguments(string runDir, params string[] more) => ["run", File, "--plugins", Plugins, "--run-dir", runDir, .. more];

    public void Dispose() => Dir.Dispose();
}
