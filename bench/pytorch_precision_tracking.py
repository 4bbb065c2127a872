#!/usr/bin/env python3
"""The yardstick for bench/precision.yaml's tracking check: how far does PyTorch's own bf16 autocast drift from fp32
on the same GPT-S, token cache and schedule? If it drifts as far as this project's bf16, the drift belongs to the
training dynamics, not to a cast this project makes.

Trains bench/gpt_reference.py's LlamaGen GPT-S (dim 256, 4 layers, 8 heads: 3,937,280 parameters, as the project's
GPT-S) twice per seed from the same initial weights, once in float32 and once under torch.autocast(bfloat16), on the
token cache of a finished bench/precision.yaml run (RUN/tokens/train.safetensors), with precision.yaml's schedule:
batch 32, lr 1e-3, 50 warmup steps then cosine to 1e-4 at step 300, AdamW (0.9, 0.95), weight decay 0.05, clip 1.0,
class dropped 10 % of the time; the head starts at zero, as LlamaGen's and this project's do (the loss plateaus near
5.2 until step ≈ 60). Both arms of a seed see the same batches and the same dropout masks (drawn in float32 from a
generator seeded per step), so they differ only in the arithmetic. Prints the loss every 10 steps (the mean over
those 10, as the trainer logs it) and the largest relative difference per seed against the 2 % bound, as
bench/precision_tracking.py does for the project's arms. The batches are not the project's (another sampler), so
compare the size of the drift, not the curves.

Usage: python3 bench/pytorch_precision_tracking.py RUN_DIR [--seeds 0 1 2] [--steps 300] [--threads 1]
                                                  [--compare bf16 lr1.001 lr1.01]
(Debian's python3-torch, PyTorch 1.13 CPU, is enough; torch.autocast on the CPU runs its matmuls in bf16 through oneDNN.
Install libopenblas0-pthread with it: on Debian's default reference BLAS the float32 arm runs 18× slower, 106 against
1,892 tokens/s, one thread, AMD EPYC; about 8 min per seed then.)
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt_reference as reference  # noqa: E402  (the model: LlamaGen's c2i GPT in plain PyTorch)

DTYPES = {"U8": np.uint8, "I16": np.int16, "I32": np.int32, "I64": np.int64}


def read_safetensors(path, name):
    """One tensor of a safetensors file as a numpy array (header: u64 length, JSON; then the raw little-endian data).
    Every length is checked against the file's size before it is read, so a damaged file fails with one message."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8)) if size >= 8 else (-1,)
        if not 0 < length <= min(size - 8, 100_000_000):
            sys.exit(f"{path} is not a safetensors file: its header length {length} does not fit its {size} bytes")
        header = json.loads(f.read(length))
        entry = header.get(name) if isinstance(header, dict) else None
        if not isinstance(entry, dict) or entry.get("dtype") not in DTYPES:
            sys.exit(f"{path} has no integer tensor '{name}' (dtypes {', '.join(DTYPES)} are read)")
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= size - 8 - length:
            sys.exit(f"{path}: tensor '{name}' lies at bytes {begin}…{end}, outside the file's data")
        f.seek(8 + length + begin)
        return np.frombuffer(f.read(end - begin), dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])


class MaskedDropout:
    """Dropout whose masks are drawn in float32 from a generator the caller seeds, so fp32 and bf16 draw the same ones."""

    def __init__(self):
        self.generator = torch.Generator()

    def __call__(self, x, p, training):
        if not training or p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator) >= p
        return x * keep.to(x.dtype) / (1 - p)


def lr_at(step, steps, peak=1e-3, floor=1e-4, warmup=50):
    if step <= warmup:
        return peak * step / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def train(tokens, labels, seed, bf16, steps, batch, log_every, lr_scale=1.0):
    """The training loss of one arm at every logged step, averaged over the steps since the last: {step: loss}."""
    torch.manual_seed(seed)
    dropout = MaskedDropout()
    model = reference.Gpt(*reference.PRESETS["GPT-S"], dropout=dropout).train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.95))
    order = np.random.default_rng(seed)
    losses, window = {}, []   # the mean over each log window, as the project's trainer logs it
    for step in range(1, steps + 1):
        rows = order.choice(len(tokens), batch, replace=False)
        x = torch.from_numpy(tokens[rows, 0].astype(np.int64))                       # [B, L]
        y = torch.from_numpy(labels[rows].astype(np.int64))                          # [B]
        y = torch.where(torch.from_numpy(order.random(batch) < 0.1), torch.full_like(y, reference.CLASSES), y)
        dropout.generator.manual_seed(seed * 1_000_003 + step)
        for group in optimizer.param_groups:
            group["lr"] = lr_scale * lr_at(step, steps)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(y, x[:, :-1])                                              # [B, L, V]
        loss = F.cross_entropy(logits.float().reshape(-1, reference.VOCAB), x.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        window.append(loss.item())
        if step % log_every == 0:
            losses[step] = sum(window) / len(window)
            window.clear()
    return losses


def arm_name(text):
    if text == "bf16":
        return text
    try:
        if text.startswith("lr") and float(text[2:]) > 0:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"'{text}' is not an arm; bf16 or lrX (X > 0, e.g. lr1.01) are accepted")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bound", type=float, default=0.02)
    parser.add_argument("--compare", nargs="+", default=["bf16"], type=arm_name,
                        help="arms compared with fp32: bf16 (autocast), lrX (fp32 with the lr times X, e.g. lr1.01: "
                             "fp32's own drift under a push that is not rounding)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cache = os.path.join(args.run, "tokens", "train.safetensors")
    tokens, labels = read_safetensors(cache, "tokens"), read_safetensors(cache, "labels")   # [N, A, L], [N]
    if tokens.shape[2] != reference.GRID * reference.GRID or int(tokens.max()) >= reference.VOCAB:
        sys.exit(f"{cache} holds {tokens.shape[2]} tokens of up to {int(tokens.max()) + 1} codes; this yardstick takes "
                 f"{reference.GRID}x{reference.GRID} tokens of a {reference.VOCAB}-code book (bench/precision.yaml's VQ-S)")
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, GPT-S, {len(tokens)} token rows from {cache}")
    names = {arm: "PyTorch autocast bf16" if arm == "bf16" else f"fp32, lr x {arm[2:]}" for arm in args.compare}
    worst = {arm: [] for arm in args.compare}
    for seed in args.seeds:
        fp32 = train(tokens, labels, seed, False, args.steps, args.batch, args.log_every)
        arms = {arm: train(tokens, labels, seed, arm == "bf16", args.steps, args.batch, args.log_every,
                           lr_scale=1.0 if arm == "bf16" else float(arm[2:])) for arm in args.compare}
        print(f"seed {seed}\n step        fp32 loss" + "".join(f" {name:>16}  rel. diff" for name in arms))
        for step in sorted(fp32):
            print(f"{step:5d} {fp32[step]:16.4f}" + "".join(
                f" {arm[step]:16.4f} {100 * (arm[step] - fp32[step]) / fp32[step]:9.2f}%" for arm in arms.values()))
        for name, arm in arms.items():
            diffs = [(step, (arm[step] - fp32[step]) / fp32[step]) for step in sorted(fp32)]
            step, d = max(diffs, key=lambda sd: abs(sd[1]))
            first = next((s for s, x in diffs if abs(x) > args.bound), None)
            where = f"first beyond {100 * args.bound:.0f} % at step {first}" if first else f"within {100 * args.bound:.0f} %"
            worst[name].append(abs(d))
            print(f"seed {seed}, {names[name]} vs fp32: largest |relative difference| {100 * abs(d):.2f} % "
                  f"(step {step}; {where})")
        sys.stdout.flush()
    print(json.dumps({"bench": "pytorch_precision_tracking", "torch": torch.__version__, "seeds": args.seeds,
                      "largest_relative_difference": worst}))


if __name__ == "__main__":
    main()
