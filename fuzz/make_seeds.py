"""Writes DIR/TARGET/ (`python3 fuzz/make_seeds.py DIR`; python3, standard library only): the starting corpus of each fuzz target, made from the
test fixtures where the repo has them and built by hand (a few hundred bytes) where it has none."""
import gzip
import io
import json
import os
import shutil
import struct
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = sys.argv[1]
CHECKPOINTS = os.path.join(ROOT, "tests", "fixtures", "checkpoints")


def put(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


def fixture(*parts):
    with open(os.path.join(ROOT, *parts), "rb") as f:
        return f.read()


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def npy(descr, shape, data):
    dims = f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}"
    text += " " * (-(10 + len(text) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode() + data


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)
    for name in ["fixture-tokenizer.pt", "mapping-test.pt", "hostile.pt", "var-bare.pth"]:
        put("pt", name, fixture("tests", "fixtures", "checkpoints", name))
        with zipfile.ZipFile(os.path.join(CHECKPOINTS, name)) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
            put("pickle", name + ".pkl", z.read(pkl))
    for name in ["expanded-small.pt", "self-list.pt", "shared.pt", "huge-count.pt"]:
        put("pt", "hostile-" + name, fixture("tests", "fixtures", "checkpoints", "hostile", name))
    put("safetensors", "python.safetensors", fixture("tests", "fixtures", "safetensors", "written-by-python.safetensors"))
    put("safetensors", "ema.safetensors", fixture("tests", "fixtures", "checkpoints", "ema.safetensors"))
    put("permutation", "mapping-test.safetensors", fixture("tests", "fixtures", "checkpoints", "mapping-test.safetensors"))
    put("permutation", "mapping-test.pt", fixture("tests", "fixtures", "checkpoints", "mapping-test.pt"))
    put("permutation", "empty-mapping.pt", fixture("tests", "fixtures", "checkpoints", "hostile", "empty-mapping.pt"))
    images = npy("|u1", [2, 2, 2, 3], bytes(range(24)))
    labels = npy("<i8", [2], struct.pack("<2q", 3, 7))
    put("npy", "images.npy", images)
    put("npy", "labels.npy", labels)
    # LlamaGen's extracted codes (int64 (1, A, L)) and labels (int64 (1,)), as extract_codes_c2i.py saves them.
    put("npy", "llamagen-codes.npy", fixture("tests", "fixtures", "llamagen-codes", "flip", "imagenet8_codes", "0.npy"))
    put("npy", "llamagen-label.npy", fixture("tests", "fixtures", "llamagen-codes", "flip", "imagenet8_labels", "0.npy"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr("arr_0.npy", images)
        z.writestr("arr_1.npy", labels)
    put("npz", "samples.npz", buffer.getvalue())
    idx = b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 3, 3) + bytes(range(18))
    put("idx", "images.idx", idx)
    put("idx", "labels.idx.gz", gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 4) + bytes([0, 1, 2, 3]), mtime=0))
    meta = {"iar.format": "iar-token-cache/1", "iar.tokenizer": "t", "iar.permutation": "identity",
            "iar.vocabulary_size": "16", "iar.num_classes": "2", "iar.layout": "grid 2x2", "iar.data": "d"}
    put("tokencache", "cache.safetensors", safetensors(
        {"labels": ("I64", [2], struct.pack("<2q", 0, 1)), "tokens": ("U8", [2, 1, 4], bytes([1, 2, 3, 4, 5, 6, 7, 8]))}, meta))
    put("yaml", "quickstart.yaml", fixture("experiments", "quickstart.yaml"))
    put("yaml", "anchors.yaml", b"a: &x [1, 2, {b: c}]\nb: *x\narms:\n  - name: one\n")


if __name__ == "__main__":
    main()
