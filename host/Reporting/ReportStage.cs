using IAR.Host.Experiments;

namespace IAR.Host.Reporting;

/// <summary>
/// The last stage: <c>report.md</c>, <c>report.html</c> and <c>report/*.png</c> from the run's own files, described with
/// the whole <paramref name="experiment"/> (also when this call trained only some of its arms).
/// </summary>
public sealed class ReportStage(Experiment experiment) : IRunStage
{
    public string Name => "report";

    public void Run(RunContext context)
    {
        var outcome = RunReport.Build(context.Run.Path, experiment);
        context.Log.Info($"   {outcome.Verdict}");
        context.Log.Info($"   report: {outcome.MarkdownPath} and {outcome.HtmlPath} ({outcome.Plots.Count} plots)");
    }
}
