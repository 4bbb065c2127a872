using IAR.Host.Runs;
using System.Diagnostics;
using IAR.Host.Distributed;
using IAR.Host.Experiments;
using IAR.Host.Plugins;
using IAR.Host.Reporting;
using static TorchSharp.torch;

namespace IAR.Host.Recipes;

/// <summary>
/// <c>iar run</c>: an ablation as prepare → jobs → report.
/// <code>
/// prepare (once)          data ─► tokenizer (train or load) ─► token cache ─► evaluation resources
/// job (arm, seed) × N     rearrange ─► generator ─► train: token CE + λ·cluster CE, evaluating ─► release
/// report                  report.md / report.html from the run folder's files
/// </code>
/// Each step reads its inputs from typed values or from the run folder and writes its products there, so a step can
/// run alone and an interrupted run resumes from those files (<see cref="Prepare"/>, <see cref="GeneratorJob"/>).
/// Processes may share the run folder: prepare runs under the folder's lock (a second process waits, then loads what
/// the first made), and a job under its own (a job another process holds is skipped here). Data-parallel ranks run one
/// job together: prepare is made once (by whichever rank takes the lock first, alone) and the ranks follow rank 0's
/// decision whether a job is to be trained.
/// </summary>
public static class AblationRecipe
{
    /// <param name="experiment">The whole experiment: the report describes every arm the run folder has.</param>
    /// <param name="jobs">The jobs this call trains (every arm × seed, those of <c>--arms</c> or <c>--job</c>).</param>
    /// <param name="report">Build the report at the end (not for a worker or a single <c>--job</c>).</param>
    public static void Run(Experiment experiment, IReadOnlyList<JobId> jobs, RunEnvironment env, bool report = true)
    {
        var total = Stopwatch.StartNew();
        using (var prepared = PrepareOnce(experiment, env))
            foreach (var job in jobs)
                RunJob(job, experiment, prepared, env);
        if (report && env.Writes) Report(experiment, env);
        env.Log.Info($"{(report ? "run" : "jobs")} complete in {total.Elapsed.TotalSeconds:F1} s: {env.Run.Path}");
    }

    /// <summary>Prepare, under the run folder's lock so that concurrent processes train the tokenizer once.</summary>
    public static PreparedRun PrepareOnce(Experiment experiment, RunEnvironment env) => Step(env, "prepare", () =>
    {
        using var held = env.Run.Lock(".", wait: true);
        return Prepare.Run(experiment, env);
    });

    /// <summary>The report is built from files only, so it covers jobs trained by earlier calls or other processes.</summary>
    public static void Report(Experiment experiment, RunEnvironment env)
    {
        Step(env, "report", () =>
        {
            var outcome = RunReport.Build(env.Run.Path, experiment);
            env.Log.Info($"   {outcome.Verdict}");
            env.Log.Info($"   report: {outcome.MarkdownPath} and {outcome.HtmlPath} ({outcome.Plots.Count} plots)");
            return outcome;
        });
        env.Run.WriteStatus(RunState.Complete);
    }

    /// <summary>One job under its lock, its state in <c>arms/&lt;arm&gt;/seed-&lt;s&gt;/status.json</c>.</summary>
    static void RunJob(JobId job, Experiment experiment, PreparedRun prepared, RunEnvironment env)
    {
        // Rank 0 holds the lock for all ranks of the job and decides; the others follow its decision.
        using var held = env.Writes ? env.Run.Lock(job.Folder, wait: false) : null;
        var skip = env.Group.Agree(() =>
            held is null ? $"== {job}: held by another process; skipped here"
            : env.Run.JobStatus(job.Folder)?.State == RunState.Complete ? $"== {job}: done"
            : null, $"whether {job} is to be trained");
        if (skip is not null)
        {
            env.Log.Info(skip);
            return;
        }
        WriteJobStatus(RunState.Running);
        try
        {
            Step(env, job.ToString(), () => GeneratorJob.Run(job, experiment, prepared, env));
            WriteJobStatus(RunState.Complete);
        }
        catch (OperationCanceledException)
        {
            WriteJobStatus(RunState.Interrupted, "stopped by a signal after writing a checkpoint; the next call resumes it");
            throw;
        }
        catch (Exception e)
        {
            WriteJobStatus(RunState.Failed, e.Message);
            throw;
        }

        void WriteJobStatus(RunState state, string? message = null)
        {
            if (env.Writes) env.Run.WriteJobStatus(job.Folder, state, message);
        }
    }

    /// <summary>Runs one step with its status in status.json and its time in the log; a failure is recorded before it propagates.</summary>
    static T Step<T>(RunEnvironment env, string name, Func<T> step)
    {
        env.Cancellation.ThrowIfCancellationRequested();
        WriteStatus(RunState.Running);
        env.Log.Info($"== {name}");
        var watch = Stopwatch.StartNew();
        try
        {
            var result = step();
            env.Log.Info($"   {name} done in {watch.Elapsed.TotalSeconds:F1} s");
            return result;
        }
        catch (OperationCanceledException)
        {
            WriteStatus(RunState.Interrupted);
            throw;
        }
        catch (Exception e)
        {
            WriteStatus(RunState.Failed, e.Message);
            env.Log.FileOnly($"step {name} failed: {e}");
            throw;
        }

        void WriteStatus(RunState state, string? message = null)
        {
            if (env.Writes) env.Run.WriteStatus(state, name, message);
        }
    }
}
