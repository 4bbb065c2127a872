using IAR.Host.Experiments;

namespace IAR.Host.Reporting;

/// <summary>The last stage: <c>report.md</c>, <c>report.html</c> and <c>report/*.png</c> from the run's own files.</summary>
public sealed class ReportStage : IRunStage
{
    public string Name => "report";

    public void Run(RunContext context)
    {
        var outcome = RunReport.Build(context.Run.Path, context.Experiment);
        context.Log.Info($"   {outcome.Verdict}");
        context.Log.Info($"   report: {outcome.MarkdownPath} and {outcome.HtmlPath} ({outcome.Plots.Count} plots)");
    }
}
