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
bench/precision_tracking.py does for the project's arms. By default the batches are not the project's (another
sampler), so compare the size of the drift, not the curves.

Same start (the project's trainer and PyTorch on one training, so that any difference is the implementation's):
--write-init DIR writes each seed's initial weights with official key names; a run of bench/precision-controls.yaml
with generator.checkpoint set to one of them, the three dropouts at 0 and training.log_every=1 trains from them; then
--project-batches (the project's EpochSampler order, label drops and schedule, reproduced here from its DerivedSeed
streams), --dropout 0, --log-every 1 and --against RUN/arms/fp32 RUN/arms/OTHER print both implementations' loss
at every step (bench/README.md has the commands and a result).

Usage: python3 bench/pytorch_precision_tracking.py RUN_DIR [--seeds 0 1 2] [--steps 300] [--threads 1]
                                                  [--compare bf16 lr1.001 lr1.01] [--dropout P]
                                                  [--write-init DIR | --project-batches --against ARM_DIR…]
(Debian's python3-torch, PyTorch 1.13 CPU, is enough; torch.autocast on the CPU runs its matmuls in bf16 through oneDNN.
Install libopenblas0-pthread with it: on Debian's default reference BLAS the float32 arm runs 18× slower, 106 against
1,892 tokens/s, one thread, AMD EPYC; about 8 min per seed then.)
"""
import argparse
import hashlib
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


def derived_seed(seed, purpose, index=0):
    """host/Training/DerivedSeed.cs: the first 8 bytes of SHA-256("seed/purpose/index"), little-endian, shifted right by one."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{purpose}/{index}".encode()).digest()[:8], "little") >> 1


class ProjectBatches:
    """The project trainer's batches and label drops for one seed (EpochSampler.cs, GeneratorObjective.cs): step s takes
    positions s·B … s·B+B−1 of an endless stream of epochs, each torch.randperm seeded by DerivedSeed(DerivedSeed(seed,
    "batches"), "epoch", e); then one torch.rand([B]) < 0.1 per step from a generator seeded DerivedSeed(seed, "trainer").
    Whether this PyTorch's randperm and rand give libtorch 2.10's numbers is checked by the losses, not assumed: with the
    same start and batches, the two trainers' losses agree to float rounding for the first steps, else they do not."""

    def __init__(self, count, batch, seed, label_drop):
        self.count, self.batch, self.label_drop = count, batch, label_drop
        self.batches_seed = derived_seed(seed, "batches")
        self.labels = torch.Generator()
        self.labels.manual_seed(derived_seed(seed, "trainer"))
        self.epoch, self.order = -1, None

    def step(self, step):   # 0-based → (rows [B], drop [B] bool)
        rows = []
        for position in range(step * self.batch, (step + 1) * self.batch):
            epoch = position // self.count
            if epoch != self.epoch:
                generator = torch.Generator()
                generator.manual_seed(derived_seed(self.batches_seed, "epoch", epoch))
                self.epoch, self.order = epoch, torch.randperm(self.count, generator=generator).numpy()
            rows.append(self.order[position % self.count])
        drop = torch.rand([self.batch], generator=self.labels) < self.label_drop
        return np.array(rows), drop


def project_lr_at(step0, steps, peak=1e-3, min_ratio=0.1, warmup=50):
    """host/Training/LearningRateSchedule.cs for the 0-based step: warm-up from peak/W, cosine to min_ratio·peak."""
    if step0 < warmup:
        return peak * (step0 + 1) / warmup
    progress = min(1.0, (step0 - warmup) / max(1, steps - warmup - 1))
    return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


OFFICIAL_KEYS = [("cls_embedding.weight", "cls_embedding.embedding_table.weight"), (".wqkv.", ".attention.wqkv."),
                 (".wo.", ".attention.wo."), (".w1.", ".feed_forward.w1."), (".w2.", ".feed_forward.w2."),
                 (".w3.", ".feed_forward.w3.")]


def official_name(name):
    for ours, official in OFFICIAL_KEYS:
        name = name.replace(ours, official)
    return name


def write_safetensors(path, tensors):
    """float32 tensors {name: tensor} as a safetensors file (temp file, then rename)."""
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        data = tensor.detach().float().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(path + ".tmp", path)


def initial_weights(seed, dropout):
    """The yardstick's GPT-S as torch.manual_seed(seed) initialises it."""
    torch.manual_seed(seed)
    return reference.Gpt(*reference.PRESETS["GPT-S"], dropout=dropout)


def lr_at(step, steps, peak=1e-3, floor=1e-4, warmup=50):
    if step <= warmup:
        return peak * step / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def train(tokens, labels, seed, bf16, steps, batch, log_every, lr_scale=1.0, project=False, dropout_p=0.1):
    """The training loss of one arm at every logged step, averaged over the steps since the last: {step: loss}.
    project: the project trainer's batches, label drops and schedule (ProjectBatches, project_lr_at) instead of this
    script's own sampler and schedule."""
    reference.DROPOUT = dropout_p
    dropout = MaskedDropout()
    model = initial_weights(seed, dropout).train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.95))
    order = np.random.default_rng(seed)
    batches = ProjectBatches(len(tokens), batch, seed, 0.1) if project else None
    losses, window = {}, []   # the mean over each log window, as the project's trainer logs it
    for step in range(1, steps + 1):
        if project:
            rows, drop = batches.step(step - 1)
            lr = project_lr_at(step - 1, steps)
        else:
            rows = order.choice(len(tokens), batch, replace=False)
            drop = torch.from_numpy(order.random(batch) < 0.1)
            lr = lr_at(step, steps)
        x = torch.from_numpy(tokens[rows, 0].astype(np.int64))                       # [B, L]
        y = torch.from_numpy(labels[rows].astype(np.int64))                          # [B]
        y = torch.where(drop, torch.full_like(y, reference.CLASSES), y)
        dropout.generator.manual_seed(seed * 1_000_003 + step)
        for group in optimizer.param_groups:
            group["lr"] = lr_scale * lr
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


def project_losses(arm_dir, seed):
    """{step: loss} of a project job (RUN/arms/NAME/seed-S/metrics.jsonl)."""
    with open(os.path.join(arm_dir, f"seed-{seed}", "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return {r["step"]: r["loss"] for r in records if r.get("stage") == "generator" and "loss" in r}


def compare_with_project(arm_dirs, seed, pytorch_by_arm, names):
    """This script's loss against the project's at every step both logged, per arm; and each implementation's drift
    between its arms (the second arm against the first), the sensitivity the two should share."""
    project_by_arm = [project_losses(d, seed) for d in arm_dirs]
    steps = sorted(set(pytorch_by_arm[0]).intersection(*[set(t) for t in project_by_arm]))
    print(f"seed {seed}: PyTorch vs the project, same start, batches and schedule"
          f"\n step" + "".join(f" {n + ' PyTorch':>18} {n + ' project':>18}  rel. diff" for n in names[:len(arm_dirs)]))
    for step in steps:
        print(f"{step:5d}" + "".join(f" {o[step]:18.6f} {t[step]:18.6f} {100 * (t[step] - o[step]) / o[step]:9.4f}%"
                                     for o, t in zip(pytorch_by_arm, project_by_arm)))
    for i, name in enumerate(names[:len(arm_dirs)]):
        worst = max(steps, key=lambda s: abs(project_by_arm[i][s] - pytorch_by_arm[i][s]) / pytorch_by_arm[i][s])
        print(f"seed {seed}, {name}: the project against PyTorch, largest |relative difference| "
              f"{100 * abs(project_by_arm[i][worst] - pytorch_by_arm[i][worst]) / pytorch_by_arm[i][worst]:.4f} % (step {worst})")
    if len(arm_dirs) > 1:
        for who, by_arm in (("PyTorch", pytorch_by_arm), ("project", project_by_arm)):
            worst = max(abs(by_arm[1][s] - by_arm[0][s]) / by_arm[0][s] for s in steps)
            print(f"seed {seed}, {who}: {names[1]} against fp32, largest |relative difference| {100 * worst:.2f} %")


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
    parser.add_argument("--dropout", type=float, default=0.1, help="token, residual and FFN dropout (0: none)")
    parser.add_argument("--project-batches", action="store_true",
                        help="the project trainer's batch order, label drops and schedule instead of this script's")
    parser.add_argument("--write-init", metavar="DIR",
                        help="only write each seed's initial weights, official key names, to DIR/gpt-s-seed-S.safetensors "
                             "(the project's generator.checkpoint), and stop")
    parser.add_argument("--against", metavar="ARM_DIR", nargs="+", default=[],
                        help="a project arm folder per arm (RUN/arms/NAME; fp32 first, then one per --compare arm): "
                             "prints the project's loss beside this script's at every step, which --project-batches, "
                             "--write-init's start and --dropout 0 make the same training")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.write_init:
        os.makedirs(args.write_init, exist_ok=True)
        for seed in args.seeds:
            model = initial_weights(seed, MaskedDropout())
            path = os.path.join(args.write_init, f"gpt-s-seed-{seed}.safetensors")
            write_safetensors(path, {official_name(k): v for k, v in model.state_dict().items()})
            print(f"seed {seed}: {path}")
        return
    cache = os.path.join(args.run, "tokens", "train.safetensors")
    tokens, labels = read_safetensors(cache, "tokens"), read_safetensors(cache, "labels")   # [N, A, L], [N]
    if tokens.shape[2] != reference.GRID * reference.GRID or int(tokens.max()) >= reference.VOCAB:
        sys.exit(f"{cache} holds {tokens.shape[2]} tokens of up to {int(tokens.max()) + 1} codes; this yardstick takes "
                 f"{reference.GRID}x{reference.GRID} tokens of a {reference.VOCAB}-code book (bench/precision.yaml's VQ-S)")
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, GPT-S, {len(tokens)} token rows from {cache}")
    names = {arm: "PyTorch autocast bf16" if arm == "bf16" else f"fp32, lr x {arm[2:]}" for arm in args.compare}
    worst = {arm: [] for arm in args.compare}
    for seed in args.seeds:
        common = dict(project=args.project_batches, dropout_p=args.dropout)
        fp32 = train(tokens, labels, seed, False, args.steps, args.batch, args.log_every, **common)
        arms = {arm: train(tokens, labels, seed, arm == "bf16", args.steps, args.batch, args.log_every,
                           lr_scale=1.0 if arm == "bf16" else float(arm[2:]), **common) for arm in args.compare}
        if args.against:
            compare_with_project(args.against, seed, [fp32, *arms.values()], ["fp32", *args.compare])
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
