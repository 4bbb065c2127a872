"""Writes the checkpoint the `checkpoint-load` bench reads (`/usr/bin/python3 bench/make_checkpoint.py [DIR]`, Debian's
python3-torch; DIR defaults to /tmp/iar-bench-checkpoint; nothing here is committed as data):

- gpt-s.pt: a LlamaGen GPT-S-shaped training checkpoint as LlamaGen's train_c2i.py saves it ({"model", "steps", "args"}),
  with GPT-S's key names and shapes (dim 768, 12 heads, FFN 2048, 16384 codes, 1000 classes + 1 null class) but
  4 of its 12 layers and float16, so the file is ~109 MB rather than 444 MB; written by torch.save (zip, one storage
  per tensor, 64-byte aligned).
- gpt-s.safetensors: the same tensors, written here by hand (the format is a JSON header and raw bytes; Debian has
  no safetensors package), tensors in key order.
Same seed, same bytes.
"""
import json
import os
import struct
import sys

import torch

DIM, FFN, VOCAB, CLASSES, LAYERS = 768, 2048, 16384, 1000, 4


def state_dict():
    g = torch.Generator().manual_seed(0)
    shapes = {"cls_embedding.embedding_table.weight": (CLASSES + 1, DIM), "tok_embeddings.weight": (VOCAB, DIM)}
    for i in range(LAYERS):
        p = f"layers.{i}."
        shapes.update({
            p + "attention.wqkv.weight": (3 * DIM, DIM), p + "attention.wo.weight": (DIM, DIM),
            p + "feed_forward.w1.weight": (FFN, DIM), p + "feed_forward.w3.weight": (FFN, DIM),
            p + "feed_forward.w2.weight": (DIM, FFN),
            p + "attention_norm.weight": (DIM,), p + "ffn_norm.weight": (DIM,),
        })
    shapes.update({"norm.weight": (DIM,), "output.weight": (VOCAB, DIM)})
    return {k: (torch.randn(s, generator=g) * 0.02).to(torch.float16) for k, s in shapes.items()}


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, t in tensors.items():
        n = t.numel() * t.element_size()
        header[name] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for t in tensors.values():
            f.write(t.contiguous().numpy().tobytes())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/iar-bench-checkpoint"
    os.makedirs(out, exist_ok=True)
    sd = state_dict()
    torch.save({"model": sd, "steps": 100000, "args": {"gpt_model": "GPT-S", "image_size": 256, "vocab_size": VOCAB}},
               os.path.join(out, "gpt-s.pt"))
    write_safetensors(os.path.join(out, "gpt-s.safetensors"), sd)
    for name in ["gpt-s.pt", "gpt-s.safetensors"]:
        print(f"{os.path.join(out, name)}: {os.path.getsize(os.path.join(out, name)) / 2**20:.1f} MiB, {len(sd)} tensors")


if __name__ == "__main__":
    main()
