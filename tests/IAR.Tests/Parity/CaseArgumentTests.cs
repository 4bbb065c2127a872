using System.Text.Json.Nodes;
using IAR.Tests.Support;

namespace IAR.Tests.Parity;

/// <summary>
/// Handlers take their arguments from the case, and a case they cannot run as recorded fails by name: each test edits a
/// copy of a shipped case (tests/fixtures/parity) and runs it through <see cref="ParityTests.Mismatches"/>.
/// </summary>
public class CaseArgumentTests
{
    const string Generate = "llamagen-gpt-generate-cfg-4-and-1.5";
    const string Forward = "llamagen-gpt-forward-3-layers-3x3";
    const string Sampled = "llamagen-gpt-generate-sampled";
    const string TrainSteps = "iar-train-steps";

    [Fact]
    public void The_recorded_guidance_scale_is_the_one_used()
    {
        // The recorded cfg_scale=4.0 passes (see ParityTests); the same case saying 2.0 must not.
        using var copy = Copy(Generate, c => c["calls"]!["tokens_cfg4"] = Text(c, "tokens_cfg4").Replace("cfg_scale=4.0", "cfg_scale=2.0"));
        var failures = ParityTests.Mismatches(ParityCase.Load(copy.Path));
        Assert.Contains(failures, f => f.StartsWith("debug_step_logits_cfg4:", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("cfg1p5", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("tokens_temperature", "temperature=0.5", "temperature=1.0")]
    [InlineData("tokens_top_k", "top_k=5", "top_k=0")]
    [InlineData("tokens_top_p", "top_p=0.5", "top_p=1.0")]
    [InlineData("tokens_all", "temperature=0.7", "temperature=1.0")]
    [InlineData("tokens_all", "top_k=12", "top_k=0")]
    [InlineData("tokens_all", "top_p=0.8", "top_p=1.0")]
    [InlineData("tokens_top_k", "manual_seed(", "manual_seed(1")]
    public void Each_recorded_sampling_argument_changes_the_tokens(string output, string recorded, string neutral)
    {
        // What a handler or sampler ignoring the argument would do: the same call at the argument's neutral value.
        using var copy = Copy(Sampled, c => c["calls"]![output] = Text(c, output).Replace(recorded, neutral));
        var failures = ParityTests.Mismatches(ParityCase.Load(copy.Path));
        Assert.Contains(failures, f => f.StartsWith(output + ":", StringComparison.Ordinal));
        Assert.All(failures, f => Assert.Contains(output["tokens_".Length..], f));
    }

    [Theory]
    [InlineData("optimizer", "weight_decay=0.5", "weight_decay=0.0")]
    [InlineData("optimizer", "learning_rate=0.003", "learning_rate=0.002")]
    [InlineData("optimizer", "betas=(0.9, 0.95)", "betas=(0.9, 0.999)")]
    [InlineData("losses", "lambda_cce=1.0", "lambda_cce=0.0")]
    [InlineData("losses", "max_grad_norm=0.5", "max_grad_norm=0.0")]
    public void Each_recorded_training_argument_changes_the_trajectory(string output, string recorded, string neutral)
    {
        // The official step with one argument at another value (0 turns weight decay, the cluster loss or clipping off):
        // the handler must run that, so the recorded trajectory is missed.
        using var copy = Copy(TrainSteps, c => c["calls"]![output] = Text(c, output).Replace(recorded, neutral));
        var failures = ParityTests.Mismatches(ParityCase.Load(copy.Path));
        Assert.Contains(failures, f => f.StartsWith("final.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_training_case_asking_for_a_training_run_is_refused()
    {
        using var copy = Copy(TrainSteps, c => c["calls"]!["losses"] = Text(c, "losses").Replace("steps=5", "steps=1000000000"));
        var e = Assert.Throws<InvalidDataException>(() => ParityTests.Mismatches(ParityCase.Load(copy.Path)));
        Assert.Contains("1 ≤ steps ≤ 100", e.Message);
    }

    [Fact]
    public void A_training_case_with_dropout_is_refused_naming_the_key()
    {
        using var copy = Copy(TrainSteps, _ => { }, config => config["resid_dropout_p"] = 0.1);
        var e = Assert.Throws<InvalidDataException>(() => ParityTests.Mismatches(ParityCase.Load(copy.Path)));
        Assert.Contains("resid_dropout_p = 0.1", e.Message);
    }

    [Fact]
    public void An_output_the_handler_cannot_produce_fails_naming_it()
    {
        using var copy = Copy(Forward, c => c["compare"]!["debug_h_layer3"] = new JsonObject { ["atol"] = 1e-4, ["rtol"] = 1e-4 });
        var failures = ParityTests.Mismatches(ParityCase.Load(copy.Path));
        var failure = Assert.Single(failures);
        Assert.StartsWith("debug_h_layer3: the llamagen-gpt-forward handler cannot produce it", failure);
        Assert.Contains("debug_h_layer2", failure);
    }

    [Theory]
    [InlineData("top_k=1", "top_k=1, emb_masks=None", "does not know argument(s) emb_masks")]
    [InlineData("top_k=1", "top_k=0", "without a recorded seed")]
    [InlineData("cfg_interval=-1", "cfg_interval=4", "cfg_interval")]
    [InlineData("max_new_tokens=9", "max_new_tokens=5", "max_new_tokens=5")]
    public void A_call_the_handler_cannot_reproduce_fails_naming_the_argument(string recorded, string edited, string named)
    {
        using var copy = Copy(Generate, c => c["calls"]!["tokens_cfg1p5"] = Text(c, "tokens_cfg1p5").Replace(recorded, edited));
        var e = Assert.Throws<InvalidDataException>(() => ParityTests.Mismatches(ParityCase.Load(copy.Path)));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void A_var_call_with_gumbel_smoothing_is_refused()
    {
        using var copy = Copy("var-forward-cfg-3", c => c["calls"]!["infer_img"] = Text(c, "infer_img").Replace("more_smooth=False", "more_smooth=True"));
        var e = Assert.Throws<InvalidDataException>(() => ParityTests.Mismatches(ParityCase.Load(copy.Path)));
        Assert.Contains("more_smooth=True", e.Message);
    }

    [Theory]
    [InlineData("var-forward-cfg-3", null, "key 'guidance_scale' is not accepted")]
    [InlineData("var-forward-cfg-3", "vae", "vae: key 'guidance_scale' is not accepted")]
    [InlineData("var-vqvae", null, "key 'guidance_scale' is not accepted")]
    public void A_var_config_key_the_handler_does_not_know_fails_naming_it(string name, string? section, string named)
    {
        using var copy = Copy(name, _ => { }, config => (section is null ? config : config[section]!)["guidance_scale"] = 2.0);
        var e = Assert.Throws<InvalidDataException>(() => ParityTests.Mismatches(ParityCase.Load(copy.Path)));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void Official_calls_parse_positional_keyword_and_nested_arguments()
    {
        var call = OfficialCall.Find("model.eval(); out = f(model, labels, 16, shape=(2, 8), name='a,b', cfg=1.5, ok=True)", "f");
        Assert.Equal(["model", "labels", "16"], call.Positional);
        Assert.Equal("labels", call.PositionalName(1));
        Assert.Equal("(2, 8)", call.Take("shape"));
        Assert.Equal("'a,b'", call.Take("name"));
        Assert.Equal(1.5, call.TakeDouble("cfg", 0));
        Assert.True(call.TakeBool("ok", false));
        Assert.Equal(7, call.TakeInt("absent", 7));
        call.RequireAllRead("test");
        Assert.Throws<InvalidDataException>(() => OfficialCall.Find("g(x=1)", "f"));
        Assert.Throws<InvalidDataException>(() => OfficialCall.Find("f(x=1", "f"));
        Assert.Throws<InvalidDataException>(() => OfficialCall.Find("f(x=abc)", "f").TakeDouble("x", 0));
    }

    static string Text(JsonNode caseJson, string output) => caseJson["calls"]![output]!.GetValue<string>();

    /// <summary>A copy of a shipped case with its case.json (and config.json) edited.</summary>
    static TempDir Copy(string name, Action<JsonNode> edit, Action<JsonNode>? editConfig = null)
    {
        var source = Path.Combine(RepoPaths.Root, "tests", "fixtures", "parity", name);   // the shipped cases, whatever IAR_PARITY_DIR says
        var copy = new TempDir();
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, copy.File(Path.GetFileName(file)));
        Edit(copy.File("case.json"), edit);
        if (editConfig is not null) Edit(copy.File("config.json"), editConfig);
        return copy;
    }

    static void Edit(string file, Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(file))!;
        edit(json);
        File.WriteAllText(file, json.ToJsonString());
    }
}
