namespace IAR.Host.Experiments;

/// <summary>
/// One stage of <c>iar run</c> (train tokenizer, rearrange, cache tokens, train arms, evaluate, report). A stage
/// must be resumable: when its outputs already exist in the run directory it loads them instead of redoing work.
/// </summary>
public interface IRunStage
{
    string Name { get; }

    void Run(RunContext context);
}
