#!/usr/bin/env python3
"""Does bf16 track fp32? Reads a run of bench/precision.yaml (arms fp32 and bf16) and prints, for every logged step,
both arms' training loss and their relative difference, then the largest one against the 2 % bound.

Usage: python3 bench/precision_tracking.py RUN_DIR [--seed 0] [--bound 0.02] [--arms REFERENCE OTHER]
(--arms compares any two arms of a run, e.g. the controls of a diagnosis: fp32 against fp32 with a perturbed lr.)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bound", type=float, default=0.02)
    parser.add_argument("--arms", nargs=2, default=["fp32", "bf16"], metavar=("REFERENCE", "OTHER"))
    args = parser.parse_args()
    names = args.arms
    reference, other = losses(args.run, names[0], args.seed), losses(args.run, names[1], args.seed)
    steps = sorted(set(reference) & set(other))
    if not steps:
        sys.exit(f"{args.run}: no logged step common to arms {names[0]} and {names[1]} (seed {args.seed})")
    print(f"{'step':>5} {names[0] + ' loss':>16} {names[1] + ' loss':>16} {'rel. diff':>10}")
    worst = 0.0
    for step in steps:
        diff = (other[step] - reference[step]) / reference[step]
        worst = max(worst, abs(diff))
        print(f"{step:>5} {reference[step]:>16.4f} {other[step]:>16.4f} {100 * diff:>9.2f}%")
    verdict = "within" if worst <= args.bound else "OUTSIDE"
    print(f"{len(steps)} logged steps; largest |relative difference| {100 * worst:.2f} % ({verdict} {100 * args.bound:.0f} %)")
    sys.exit(0 if worst <= args.bound else 1)


if __name__ == "__main__":
    main()
