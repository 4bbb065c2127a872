namespace IAR.Host.Evaluation;

/// <summary>The keys of evaluation records in metrics.jsonl (agreed between the evaluator, the trainer and the report).</summary>
public static class MetricNames
{
    public const string Stage = "stage";
    public const string Arm = "arm";
    public const string Seed = "seed";
    public const string Step = "step";

    /// <summary>The <c>stage</c> value of evaluation records.</summary>
    public const string EvaluationStage = "eval";

    /// <summary>The <c>stage</c> value of generator training records.</summary>
    public const string GeneratorStage = "generator";

    /// <summary>Prefix of each unweighted loss term in training records (<c>loss/token_ce</c>).</summary>
    public const string LossTermPrefix = "loss/";

    public const string Loss = "loss";
    public const string Fid = "fid";
    public const string InceptionScore = "inception_score";
    public const string Precision = "precision";
    public const string Recall = "recall";
    public const string ClassAccuracy = "class_accuracy";
    public const string TokenNll = "token_nll";
    public const string TokenAccuracy = "token_accuracy";
    public const string ClusterAccuracy = "cluster_accuracy";
    public const string WrongTop1RightCluster = "wrong_top1_right_cluster";
}
