using IAR.Host.Configuration;
using IAR.Host.Evaluation;
using IAR.Host.Experiments;
using IAR.Tests.Support;

namespace IAR.Tests.Evaluation;

public class EvaluationValidationTests
{
    const string Base = """
        name: eval-check
        tokenizer:
          plugin: FixturePlugin
          preset: tiny
        generator:
          plugin: FixturePlugin
          preset: tiny
        """;

    static Experiment Parse(string yaml) => ExperimentLoader.Parse(yaml, "/exp/eval.yaml", []);

    [Fact]
    public void Defaults_are_valid()
    {
        Assert.Empty(EvaluationValidation.Check(Parse(Base)));
    }

    [Fact]
    public void Too_few_samples_for_fid_name_the_key_the_line_and_the_count_needed()
    {
        var errors = EvaluationValidation.Check(Parse(Base + "\nevaluation:\n  num_samples: 100\n"));
        var error = Assert.Single(errors);
        Assert.Equal(9, error.Line);
        Assert.Contains("evaluation.num_samples = 100 is too few: at least 129 are needed", error.Message);
        Assert.Contains("feature dimension + 1", error.Message);
    }

    [Fact]
    public void Without_fid_fewer_samples_are_enough()
    {
        Assert.Empty(EvaluationValidation.Check(Parse(Base + "\nevaluation:\n  num_samples: 10\n  metrics: [inception-score, class-accuracy]\n")));
        var errors = EvaluationValidation.Check(Parse(Base + "\nevaluation:\n  num_samples: 3\n  metrics: [precision-recall]\n"));
        Assert.Contains("at least 4 are needed", Assert.Single(errors).Message);
    }

    [Fact]
    public void An_arm_with_too_few_samples_is_located_in_its_own_section()
    {
        var errors = EvaluationValidation.Check(Parse(Base + """

            arms:
              - name: baseline
              - name: iar
                iar: { enabled: true }
                evaluation: { num_samples: 50 }
            """));
        var error = Assert.Single(errors);
        Assert.Contains("arms.1.evaluation.num_samples = 50", error.Message);
        Assert.Equal(12, error.Line);
    }

    [Fact]
    public void A_missing_feature_extractor_checkpoint_is_reported_before_training()
    {
        var errors = EvaluationValidation.Check(Parse(Base + "\nevaluation:\n  feature_extractor: /no/such/extractor.safetensors\n"));
        var error = Assert.Single(errors);
        Assert.Contains("/no/such/extractor.safetensors' does not exist", error.Message);
        Assert.Contains("null to train the small classifier", error.Message);
    }

    [Fact]
    public void A_checkpoint_sets_the_feature_dimension_the_sample_count_is_checked_against()
    {
        using var dir = new TempDir();
        var path = dir.File("narrow.safetensors");
        using (var narrow = new ClassifierFeatureExtractor(new SmallCnnClassifier(new SmallCnnConfig(1, 32, 10, Width: 4)),
                   new FeatureExtractorProvenance("test", 0, 0, null, 0)))
            narrow.Save(path);
        var yaml = Base + $"\nevaluation:\n  feature_extractor: {path}\n  num_samples: 16\n";
        Assert.Contains("at least 17 are needed", Assert.Single(EvaluationValidation.Check(Parse(yaml))).Message);
        Assert.Empty(EvaluationValidation.Check(Parse(yaml.Replace("num_samples: 16", "num_samples: 17"))));
    }

    [Fact]
    public void Arms_must_share_one_feature_extractor()
    {
        var errors = EvaluationValidation.Check(Parse(Base + """

            arms:
              - name: baseline
              - name: iar
                evaluation: { feature_extractor_steps: 10 }
            """));
        Assert.Contains("all arms are scored by one extractor", Assert.Single(errors).Message);
    }

    [Fact]
    public void An_untrained_classifier_is_refused()
    {
        var errors = EvaluationValidation.Check(Parse(Base + "\nevaluation:\n  feature_extractor_steps: 0\n"));
        Assert.Contains("untrained classifier", Assert.Single(errors).Message);
    }

    [Fact]
    public void An_arm_naming_an_unknown_evaluation_option_or_metric_is_rejected_when_loading()
    {
        var errors = Assert.Throws<ConfigValidationException>(() => Parse(Base + """

            arms:
              - name: baseline
                evaluation: { num_sampels: 2000 }
              - name: iar
                evaluation: { metrics: [fid, kid] }
            """)).Errors;
        Assert.Contains(errors, e => e.Line == 10 && e.Message.Contains("num_sampels") && e.Message.Contains("num_samples"));
        Assert.Contains(errors, e => e.Line == 12 && e.Message.Contains("'kid'") && e.Message.Contains("inception-score"));
    }
}
