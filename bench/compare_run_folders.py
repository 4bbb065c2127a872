#!/usr/bin/env python3
"""Compares two run folders of the same experiment and seed (e.g. made by the build before and after a refactor).

Prints one line per file: `same` (identical bytes), `same content` (identical once what a run cannot repeat is left
out: wall-clock fields of metrics.jsonl and status.json, timing metadata of safetensors files, the run folder's own
path in the report, the zip container of an .npz whose entries are identical) or `DIFFERS`. Logs, locks and
tensorboard/ (event files carry wall times) are skipped. Exit 1 when anything differs.
    python3 bench/compare_run_folders.py RUN_A RUN_B
"""
import hashlib, json, os, struct, sys, zipfile

def timing(key):
    return key.endswith('_s') or key.endswith('_ms') or 'time' in key or key in ('updated', 'started', 'finished')

def files(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            rel = os.path.relpath(os.path.join(d, n), root)
            if n.endswith('.log') or n == '.lock' or rel.startswith('tensorboard'):
                continue
            out.add(rel)
    return out

def content(path, root):
    if path.endswith('.jsonl'):
        return [{k: v for k, v in json.loads(l).items() if not timing(k)} for l in open(path)]
    if path.endswith('.json'):
        d = json.load(open(path))
        return {k: v for k, v in d.items() if not timing(k)} if isinstance(d, dict) else d
    if path.endswith('.safetensors'):
        b = open(path, 'rb').read()
        n = struct.unpack('<Q', b[:8])[0]
        header = json.loads(b[8:8 + n])
        header['__metadata__'] = {k: v for k, v in header.get('__metadata__', {}).items() if not timing(k)}
        return header, hashlib.sha256(b[8 + n:]).hexdigest()
    if path.endswith('.npz'):
        z = zipfile.ZipFile(path)
        return [(name, hashlib.sha256(z.read(name)).hexdigest()) for name in z.namelist()]
    if path.endswith('.md') or path.endswith('.html'):
        return open(path, encoding='utf-8').read().replace(os.path.abspath(root), '<run>')
    return None

a, b = sys.argv[1], sys.argv[2]
differs = 0
for rel in sorted(files(a) | files(b)):
    pa, pb = os.path.join(a, rel), os.path.join(b, rel)
    if not (os.path.exists(pa) and os.path.exists(pb)):
        print(f'MISSING   {rel}'); differs += 1; continue
    ba, bb = open(pa, 'rb').read(), open(pb, 'rb').read()
    if ba == bb:
        print(f'same          {rel}  {hashlib.sha256(ba).hexdigest()[:16]}')
    elif content(pa, a) is not None and content(pa, a) == content(pb, b):
        print(f'same content  {rel}')
    else:
        print(f'DIFFERS       {rel}'); differs += 1
sys.exit(1 if differs else 0)
