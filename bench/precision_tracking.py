#!/usr/bin/env python3
"""Does bf16 track fp32? Reads a run of bench/precision.yaml (arms fp32 and bf16) and prints, for every logged step,
both arms' training loss and their relative difference, then the largest one against the 2 % bound.

Usage: python3 bench/precision_tracking.py RUN_DIR [--seeds 0 1 2] [--bound 0.02] [--arms REFERENCE OTHER]
                                           [--control ARM]
(--arms compares any two arms of a run; --control adds a third arm compared with the reference the same way, e.g.
fp32 with the lr moved by 0.1 % in bench/precision-controls.yaml: how far fp32 drifts from itself under a
perturbation that is not rounding, the yardstick for bf16's drift.) Exit status 0 when OTHER stays within the bound
on every seed, 1 otherwise; with several seeds it also prints the seeds' mean loss per step compared the same way
(not part of the exit status).
"""
import argparse
import json
import os
import sys


def losses(run, arm, seed):
    path = os.path.join(run, "arms", arm, f"seed-{seed}", "metrics.jsonl")
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return {r["step"]: r["loss"] for r in records if r.get("stage") == "generator" and "loss" in r}


def drift(reference, other, steps):
    """(other − reference) / reference at each step."""
    return [(other[s] - reference[s]) / reference[s] for s in steps]


def summary(name, diffs, steps, bound):
    worst = max(abs(d) for d in diffs)
    first = next((s for s, d in zip(steps, diffs) if abs(d) > bound), None)
    leaves = f"first beyond {100 * bound:.0f} % at step {first}" if first is not None else f"within {100 * bound:.0f} %"
    return worst, f"{name}: largest |relative difference| {100 * worst:.2f} % ({leaves})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--seed", type=int, help="one seed (same as --seeds N)")
    parser.add_argument("--bound", type=float, default=0.02)
    parser.add_argument("--arms", nargs=2, default=["fp32", "bf16"], metavar=("REFERENCE", "OTHER"))
    parser.add_argument("--control", metavar="ARM", help="a third arm compared with REFERENCE, printed beside OTHER")
    args = parser.parse_args()
    seeds = [args.seed] if args.seed is not None else args.seeds
    reference_name, other_name = args.arms
    names = [other_name] + ([args.control] if args.control else [])
    all_within = True
    lines = []
    per_seed = {}
    for seed in seeds:
        reference = losses(args.run, reference_name, seed)
        others = [losses(args.run, n, seed) for n in names]
        per_seed[seed] = (reference, others)
        within = table(f"seed {seed}", reference_name, reference, names, others, args, lines)
        all_within = all_within and within
    if len(seeds) > 1:
        # the seeds' mean loss per step: a bias of one precision shows here, a trajectory that parts both ways does not
        steps = sorted(set.intersection(*(set(r).intersection(*o) for r, o in per_seed.values())))
        mean = lambda series: {s: sum(x[s] for x in series) / len(series) for s in steps}
        table(f"mean of seeds {' '.join(map(str, seeds))}", reference_name, mean([r for r, _ in per_seed.values()]), names,
              [mean([o[i] for _, o in per_seed.values()]) for i in range(len(names))], args, lines)
    print()
    print("\n".join(lines))
    sys.exit(0 if all_within else 1)


def table(title, reference_name, reference, names, others, args, lines):
    """Prints the per-step table of one seed (or of the seeds' mean), adds its summary lines; True when OTHER stays within."""
    steps = sorted(set(reference).intersection(*others))
    if not steps:
        sys.exit(f"{args.run}: no logged step common to arms {reference_name}, {', '.join(names)} ({title})")
    diffs = [drift(reference, o, steps) for o in others]
    print(title)
    print(f"{'step':>5} {reference_name + ' loss':>16}" + "".join(f" {n + ' loss':>16} {'rel. diff':>10}" for n in names))
    for i, step in enumerate(steps):
        print(f"{step:>5} {reference[step]:>16.4f}"
              + "".join(f" {o[step]:>16.4f} {100 * d[i]:>9.2f}%" for o, d in zip(others, diffs)))
    within = True
    for n, d in zip(names, diffs):
        worst, line = summary(f"{title}, {n} vs {reference_name}", d, steps, args.bound)
        lines.append(f"{line}; {len(steps)} logged steps")
        within = within and (n != names[0] or worst <= args.bound)
    return within


if __name__ == "__main__":
    main()
