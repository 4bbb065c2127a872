#!/usr/bin/env python3
"""The PyTorch-eager yardstick for bench `device-train`: the same LlamaGen GPT training step in plain PyTorch.

LlamaGen's c2i GPT (class token + image tokens, pre-norm blocks with RMSNorm, 2-D RoPE, SwiGLU, dropout 0.1 on
tokens, residuals and FFN, a bias-free head that starts at zero) over an 8x8 grid of a 1024-entry codebook, 10
classes; one step = forward, cross-entropy, backward, clip_grad_norm_(1.0), torch.optim.AdamW(betas 0.9/0.95, weight
decay 0.05). Prints a table and one JSON line per measure (median tokens/s over the timed steps), fp32 and bf16
(torch.autocast).

Runs on PyTorch 1.13 (CPU, Debian's python3-torch: attention written out, no scaled_dot_product_attention) and on a
recent PyTorch with CUDA (SDPA). Usage: python3 bench/gpt_reference.py [--device cuda] [--preset GPT-B] [--batch 64]
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {"GPT-T": (64, 2, 4), "GPT-S": (256, 4, 8), "GPT-B": (768, 12, 12), "GPT-L": (1024, 24, 16)}
VOCAB, GRID, CLASSES, DROPOUT = 1024, 8, 10, 0.1


def find_multiple(n, k):
    return n if n % k == 0 else n + k - n % k


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope_2d(grid, head_dim, base=10000.0, cls_tokens=1):
    """LlamaGen's precompute_freqs_cis_2d: [cls + grid², head_dim/2, 2] (cos, sin), class rows zero."""
    half = head_dim // 2
    freqs = 1.0 / (base ** (torch.arange(0, half, 2)[: half // 2].float() / half))
    t = torch.arange(grid, dtype=torch.float32)
    fy, fx = torch.outer(t, freqs), torch.outer(t, freqs)
    grid_freqs = torch.cat([fy[:, None, :].expand(-1, grid, -1), fx[None, :, :].expand(grid, -1, -1)], dim=-1)
    cache = torch.stack([torch.cos(grid_freqs), torch.sin(grid_freqs)], dim=-1).flatten(0, 1)
    return torch.cat([torch.zeros(cls_tokens, half, 2), cache])


def apply_rope(x, freqs):  # x [B, S, H, hd], freqs [S, hd/2, 2]
    xs = x.float().reshape(*x.shape[:-1], -1, 2)
    f = freqs.view(1, xs.size(1), 1, xs.size(3), 2)
    out = torch.stack([xs[..., 0] * f[..., 0] - xs[..., 1] * f[..., 1], xs[..., 1] * f[..., 0] + xs[..., 0] * f[..., 1]], -1)
    return out.flatten(3).type_as(x)


class Block(nn.Module):
    def __init__(self, dim, heads, dropout=F.dropout):
        super().__init__()
        self.dropout = dropout  # F.dropout's signature (x, p, training); pytorch_precision_tracking.py passes its own masks
        self.heads, self.head_dim = heads, dim // heads
        hidden = find_multiple(int(2 * 4 * dim / 3), 256)
        self.attention_norm, self.ffn_norm = RMSNorm(dim), RMSNorm(dim)
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def attention(self, x, freqs):
        b, s, d = x.shape
        q, k, v = self.wqkv(x).split([d, d, d], dim=-1)
        q = apply_rope(q.view(b, s, self.heads, self.head_dim), freqs).transpose(1, 2)
        k = apply_rope(k.view(b, s, self.heads, self.head_dim), freqs).transpose(1, 2)
        v = v.view(b, s, self.heads, self.head_dim).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # PyTorch < 2.0
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
            mask = torch.ones(s, s, dtype=torch.bool, device=x.device).tril()
            y = scores.masked_fill(~mask, float("-inf")).softmax(-1).type_as(v) @ v
        return self.dropout(self.wo(y.transpose(1, 2).reshape(b, s, d)), DROPOUT, self.training)

    def forward(self, x, freqs):
        h = x + self.attention(self.attention_norm(x), freqs)
        ffn = self.w2(F.silu(self.w1(self.ffn_norm(h))) * self.w3(self.ffn_norm(h)))
        return h + self.dropout(ffn, DROPOUT, self.training)


class Gpt(nn.Module):
    def __init__(self, dim, layers, heads, dropout=F.dropout):
        super().__init__()
        self.dropout = dropout
        self.cls_embedding = nn.Embedding(CLASSES + 1, dim)
        self.tok_embeddings = nn.Embedding(VOCAB, dim)
        self.layers = nn.ModuleList(Block(dim, heads, dropout) for _ in range(layers))
        self.norm = RMSNorm(dim)
        self.output = nn.Linear(dim, VOCAB, bias=False)
        self.register_buffer("freqs_cis", rope_2d(GRID, dim // heads), persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
        nn.init.zeros_(self.output.weight)  # LlamaGen's initialize_weights: the head starts at zero (loss ln V at step 0)

    def forward(self, labels, idx):  # labels [B], idx [B, L-1] -> logits [B, L, V]
        h = torch.cat([self.cls_embedding(labels)[:, None], self.tok_embeddings(idx)], 1)
        h = self.dropout(h, DROPOUT, self.training)
        for layer in self.layers:
            h = layer(h, self.freqs_cis[: h.size(1)])
        return self.output(self.norm(h))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--preset", default="GPT-B", choices=sorted(PRESETS))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads on CPU (0 = default)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = Gpt(*PRESETS[args.preset]).to(device).train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                                  lr=1e-4, betas=(0.9, 0.95))
    length = GRID * GRID
    tokens = torch.randint(0, VOCAB, (args.batch, length), device=device)
    labels = torch.randint(0, CLASSES, (args.batch,), device=device)
    labels = torch.where(torch.rand(args.batch, device=device) < 0.1, torch.full_like(labels, CLASSES), labels)
    parameters = sum(p.numel() for p in model.parameters())

    def step(bf16):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(labels, tokens[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, VOCAB), tokens.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    print(f"PyTorch {torch.__version__}, {args.preset} ({parameters:,} parameters), batch {args.batch} x {length} tokens, "
          f"device {device}, {torch.get_num_threads()} threads")
    print(f"{'measure':<48}{'median':>12}  unit")
    for bf16 in (False, True):
        for _ in range(3):
            step(bf16)
        rates = []
        for _ in range(args.steps):
            start = time.perf_counter()
            step(bf16)
            rates.append(args.batch * length / (time.perf_counter() - start))
        measure = f"{args.preset} train tokens/s ({'bf16' if bf16 else 'fp32'}, {device}, PyTorch eager)"
        median = statistics.median(rates)
        print(f"{measure:<48}{median:>12,.0f}  tokens/s")
        print(json.dumps({"bench": "gpt_reference", "measure": measure, "median": median, "unit": "tokens/s",
                          "n": len(rates), "min": min(rates), "max": max(rates), "torch": torch.__version__,
                          "parameters": parameters, "batch": args.batch}))


if __name__ == "__main__":
    main()
