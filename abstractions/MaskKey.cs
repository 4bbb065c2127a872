namespace IAR.Abstractions;

/// <summary>
/// What a training step's random masks (dropout) are a function of, so that a data-parallel run (N ranks, each
/// training a shard of the global batch in K micro-batches) draws exactly the masks one process draws for the whole
/// batch: a mask element is a function of (<see cref="Step"/>, the row's global sample index, the element's index
/// within that sample), never of the process, the rank or the micro-batch. A generator without such masks ignores it.
/// </summary>
/// <param name="Step">The step's key: the same on every rank and micro-batch, and the same after a resume (the trainer
/// derives it from the job's seed and the step number).</param>
/// <param name="FirstSample">The index in the global batch of the batch's row 0: row b is global sample FirstSample + b.</param>
public readonly record struct MaskKey(ulong Step, long FirstSample);
