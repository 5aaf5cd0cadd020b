#!/usr/bin/env python3
"""seeds_dataset.py: writes the seed recipes of fuzz_dataset into corpus/dataset/: a valid
dataset (sealed, unsealed, with a stored partition, in other layouts) and one recipe per kind of
damage. The byte layout is the one fz_run reads (fuzz_dataset.c, build()); run it again after
changing that layout. Not a generator of HDF5 files: the harness writes those."""
import os
import random

OPS = dict(offset=0, index=1, drop=2, add=3, unsorted=4, label=5, feature=6, split_add=7,
           split_drop=8, owner=9, attr=10, type=11, shape=12, digest=13, layout=14, row_more=15,
           row_less=16, unlabel=17, huge=18)
ARR = dict(indptr=0, indices=1, features=2, labels=3, train=4, val=5, test=6, part=7)


def valid(n=20, f=3, k=3, edges=30, part=False, digest_mode=0, seed=1):
    r = random.Random(seed)
    b = [n - 1, f - 1, k - 1, edges]
    for _ in range(edges):
        b += [r.randrange(n), r.randrange(n)]
    b += [r.randrange(k) for _ in range(n)]                  # labels, all known
    b += [r.randrange(96, 160) for _ in range(n * f)]        # finite features
    b += [r.randrange(4) for _ in range(n)]                  # splits
    b += [3 if part else 0, digest_mode]
    return b


def with_ops(base, ops):
    out = list(base) + [len(ops)]
    for op, arr, *params in ops:
        out += [OPS[op], ARR[arr]] + list(params)
    return out


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dataset")
    os.makedirs(here, exist_ok=True)
    v = valid()
    seeds = {
        "valid-sealed": v + [0],
        "valid-unsealed": valid(digest_mode=1) + [0],
        "valid-partition": valid(part=True) + [0],
        "valid-one-node": valid(n=1, f=1, k=1, edges=0) + [0],
        "valid-64-nodes": valid(n=64, f=4, k=5, edges=120, seed=2) + [0],
        "valid-contiguous": with_ops(v, [("layout", "indices", 1), ("layout", "features", 1)]),
        "valid-compact": with_ops(v, [("layout", "labels", 2)]),
        "valid-empty-train": with_ops(v, [("split_drop", "train", 0, 1)]),
        "bad-offset": with_ops(v, [("offset", "indptr", 5, 1)]),
        "bad-neighbour": with_ops(v, [("index", "indptr", 3, 230)]),
        "bad-asymmetric": with_ops(v, [("drop", "indptr", 7)]),
        "bad-self-loop": with_ops(v, [("add", "indptr", 4, 0, 4)]),
        "bad-unsorted": with_ops(v, [("unsorted", "indptr", 2, 0, 9, 0)]),
        "bad-label": with_ops(v, [("label", "indptr", 6, 230)]),
        "bad-feature-nan": with_ops(v, [("feature", "indptr", 11, 0)]),
        "bad-split-repeat": with_ops(v, [("split_add", "indptr", 0, 0, 0, 3)]),
        "bad-split-range": with_ops(v, [("split_add", "indptr", 1, 0, 224)]),
        "bad-owner": with_ops(valid(part=True), [("owner", "indptr", 3, 0, 2)]),
        "bad-attr-nodes": with_ops(v, [("attr", "indptr", 0, 0, 1, 0, 4)]),
        "bad-attr-string": with_ops(v, [("attr", "indptr", 2, 3, 0)]),
        "bad-type-labels-float": with_ops(v, [("type", "labels", 3)]),
        "odd-type-indices-int32": with_ops(v, [("type", "indices", 1)]),
        "bad-shape-labels-2d": with_ops(v, [("shape", "labels", 1)]),
        "bad-shape-features-scalar": with_ops(v, [("shape", "features", 3)]),
        "bad-missing-test": with_ops(v, [("shape", "test", 4)]),
        "bad-group-labels": with_ops(v, [("shape", "labels", 5)]),
        "bad-digest-wrong": with_ops(v, [("digest", "features", 2)]),
        "bad-digest-string": with_ops(v, [("digest", "train", 4)]),
        "bad-row-more": with_ops(v, [("row_more", "labels", 0, 1)]),
        "bad-row-less": with_ops(v, [("row_less", "indices")]),
        "bad-unlabelled-split": with_ops(v, [("unlabel", "indptr", 2)] * 6),
        # reproducers of what the fuzzer found (fixed; docs: benchmarks/RESULTS.md, Fuzzing)
        "crash-attr-pair": with_ops(v, [("attr", "indptr", 3, 5, 0)]),
        "crash-digest-pair": with_ops(v, [("digest", "indices", 5)]),
        "crash-digest-pair-split": with_ops(v, [("digest", "train", 5)]),
        "crash-classes-beyond-int32": with_ops(v, [("attr", "indptr", 3, 0, 1, 228)]),
        "crash-edges-overflow": with_ops(v, [("attr", "indptr", 1, 0, 1, 229)]),
        "crash-features-overflow": with_ops(v, [("huge", "indptr", 0, 0)]),
        "crash-nodes-overflow": with_ops(v, [("huge", "indptr", 2, 0)]),
    }
    for name, b in seeds.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(bytes(x & 0xFF for x in b))


if __name__ == "__main__":
    main()
