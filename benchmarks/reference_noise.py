#!/usr/bin/env python3
"""reference_noise.py CORA_DIR OUT_DIR TYPE RATIO [SEED]: the noisy training labels the reference
implementation (eraseai/erase scripts/corrupt.py, default_corrupt) would draw: numpy's legacy
generator seeded with SEED (the reference's args.seed, 123), a corruption matrix with one random
target per class (asymm) or uniform off-diagonal mass (symm), then one np.random.choice per
training node in node order. Writes OUT_DIR with the Cora files where the training nodes' labels
are these noisy labels (validation/test keep their clean labels), for
`erase-mpi import --dir OUT_DIR` and `train` without --noise. Prints how many labels changed and
which classes lost their majority. Uses /usr/bin/python3 with numpy."""
import os, shutil, sys
import numpy as np

src, out, kind, ratio = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 123
y = np.loadtxt(os.path.join(src, "labels.txt"), dtype=np.int64)
train = np.loadtxt(os.path.join(src, "train.idx"), dtype=np.int64)
K = int(y.max()) + 1
np.random.seed(seed)
if kind == "asymm":
    C = np.eye(K) * (1 - ratio)
    rows = np.arange(K)
    for i in range(K):
        C[i][np.random.choice(rows[rows != i])] = ratio
else:
    C = ratio * np.full((K, K), 1 / (K - 1))
    np.fill_diagonal(C, 0)
    C = np.eye(K) * (1 - ratio) + C
noisy = np.array([np.random.choice(K, p=C[l]) for l in y[train]])
os.makedirs(out, exist_ok=True)
for f in ("graph.edges", "features.mtx", "train.idx", "val.idx", "test.idx"):
    shutil.copy(os.path.join(src, f), os.path.join(out, f))
z = y.copy()
z[train] = noisy
np.savetxt(os.path.join(out, "labels.txt"), z, fmt="%d")
print(f"{kind} {ratio} seed {seed}: {int((noisy != y[train]).sum())} of {len(train)} training labels changed")
for c in range(K):
    m = y[train] == c
    kept = int((noisy[m] == c).sum())
    top = np.bincount(noisy[m], minlength=K)
    print(f"  class {c}: {m.sum()} nodes, {kept} keep their label, majority -> {int(top.argmax())}"
          + ("" if top.argmax() == c else "  (majority wrong)"))
