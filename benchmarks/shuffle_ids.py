"""shuffle_ids.py IN.h5 OUTDIR [SEED]: the dataset IN.h5 with its node ids renumbered by a random
permutation (numpy, seeded), written as NumPy inputs of `erase-mpi import --dir OUTDIR`
(edge_index.npy, features.npy, labels.npy, {train,val,test}_idx.npy). The graph, features,
labels and splits are the same up to the renaming; only the ids' locality is gone. It does not
import (the caller runs erase-mpi import). Needs h5py and numpy (/usr/bin/python3)."""
import os
import sys

import h5py
import numpy as np

src, out = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
os.makedirs(out, exist_ok=True)
with h5py.File(src, "r") as f:
    indptr = f["/graph/indptr"][...].astype(np.int64)
    indices = f["/graph/indices"][...].astype(np.int64)
    x = f["/features"][...]
    y = f["/labels"][...]
    splits = {k: f["/split/" + k][...].astype(np.int64) for k in ("train", "val", "test")}
n = indptr.size - 1
new = np.random.default_rng(seed).permutation(n)  # node i becomes new[i]
rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
keep = rows < indices  # each undirected edge once
np.save(f"{out}/edge_index.npy", np.stack([new[rows[keep]], new[indices[keep]]]))
inv = np.empty(n, dtype=np.int64)
inv[new] = np.arange(n)  # new id j was node inv[j]
np.save(f"{out}/features.npy", np.ascontiguousarray(x[inv]))
np.save(f"{out}/labels.npy", y[inv].astype(np.int64))
for k, ids in splits.items():
    np.save(f"{out}/{k}_idx.npy", np.sort(new[ids]))
print(f"shuffle_ids: {n} nodes, {int(keep.sum())} edges renumbered (seed {seed}) into {out}")
