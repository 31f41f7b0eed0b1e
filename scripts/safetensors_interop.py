"""Loads the file written by scripts/safetensors-interop.mjs with Python's safetensors and checks
every tensor's dtype, shape and bits against the JSON of exact values written beside it."""
import json, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

d = sys.argv[1] if len(sys.argv) > 1 else '/tmp'
got = load_file(f'{d}/ours.safetensors')
ref = json.load(open(f'{d}/ours.json'))
with safe_open(f'{d}/ours.safetensors', 'np') as f:
    meta = f.metadata()
dt = {'float32': np.float32, 'float64': np.float64, 'int32': np.int32}
bad = [k for k, r in ref.items()
       if not (got[k].dtype == dt[r['dtype']] and list(got[k].shape) == r['shape']
               and np.array_equal(got[k], np.array(r['values'], dtype=dt[r['dtype']]).reshape(r['shape'])))]
import safetensors
print(f"python safetensors {safetensors.__version__}: {len(ref)} tensors, {len(ref) - len(bad)} identical; metadata {meta}")
sys.exit(1 if bad or set(got) != set(ref) else 0)
