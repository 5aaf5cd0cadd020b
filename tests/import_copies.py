#!/usr/bin/python3
"""import_copies.py KIND SRC DST: writes a copy of a text dataset (SRC/graph.edges,
features.mtx, labels.txt, train.idx, val.idx, test.idx; Cora) in another input format of
`erase-mpi import`, for the import tests:
  crlf   the text files with CRLF line ends
  gzip   the text files gzip-compressed (same names)
  shuffled  the text files with the feature cells and the edge lines in a seeded random order
         (so that at P ranks most cells a rank reads belong to another rank's rows)
  npy    edge_index.npy (2, E) int64, features.npy float32, labels.npy int64, train_mask.npy
         bool, val_idx.npy int32, test_idx.npy int64
  npy2   edge_index.npy (E, 2) int32, x.npy float64, y.npy int32 (N, 1), train_idx.npy int64,
         val_mask.npy uint8, test_mask.npy bool
  ogb    the OGB node-property layout: DST/raw/{edge,node-feat,node-label,num-node-list}.csv.gz,
         DST/split/random/{train,valid,test}.csv.gz
  ogbcsv the same uncompressed (.csv)
Reads the text formats with numpy only (no erase-mpi code), so it is an independent twin."""
import gzip
import os
import random
import sys

import numpy as np


def read_text(src):
    def lines(name):
        with open(os.path.join(src, name)) as f:
            return [l.split() for l in f if l.strip() and l.lstrip()[0] not in "#%"]
    edges = np.array(lines("graph.edges"), dtype=np.int64).reshape(-1, 2)
    with open(os.path.join(src, "features.mtx")) as f:
        banner = f.readline().split()
        assert banner[2] == "coordinate", "this helper reads coordinate features only"
        rows = [l.split() for l in f if l.strip() and not l.startswith("%")]
    n, fdim, _ = map(int, rows[0])
    x = np.zeros((n, fdim), dtype=np.float64)
    for r in rows[1:]:
        x[int(r[0]) - 1, int(r[1]) - 1] = float(r[2]) if len(r) > 2 else 1.0
    y = np.array([int(l[0]) for l in lines("labels.txt")], dtype=np.int64)
    splits = [np.array([int(l[0]) for l in lines(s)], dtype=np.int64)
              for s in ("train.idx", "val.idx", "test.idx")]
    return edges, x, y, splits


def mask(ids, n, dtype):
    m = np.zeros(n, dtype=dtype)
    m[ids] = 1
    return m


def main():
    kind, src, dst = sys.argv[1:4]
    os.makedirs(dst, exist_ok=True)
    names = ["graph.edges", "features.mtx", "labels.txt", "train.idx", "val.idx", "test.idx"]
    if kind in ("crlf", "gzip"):
        for name in names:
            data = open(os.path.join(src, name), "rb").read()
            if kind == "crlf":
                open(os.path.join(dst, name), "wb").write(data.replace(b"\n", b"\r\n"))
            else:
                with gzip.open(os.path.join(dst, name), "wb") as g:
                    g.write(data)
        return
    if kind == "shuffled":
        rng = random.Random(1)
        for name in names:
            lines = open(os.path.join(src, name), "rb").read().splitlines(keepends=True)
            if name in ("features.mtx", "graph.edges"):
                # the banner, comments and (Matrix Market) size line stay first
                head = 0
                while lines[head].lstrip()[:1] in (b"%", b"#"):
                    head += 1
                head += name == "features.mtx"
                body = lines[head:]
                rng.shuffle(body)
                lines = lines[:head] + body
            open(os.path.join(dst, name), "wb").write(b"".join(lines))
        return
    edges, x, y, (tr, va, te) = read_text(src)
    n = x.shape[0]
    if kind == "npy":
        np.save(os.path.join(dst, "edge_index.npy"), edges.T.copy())
        np.save(os.path.join(dst, "features.npy"), x.astype(np.float32))
        np.save(os.path.join(dst, "labels.npy"), y)
        np.save(os.path.join(dst, "train_mask.npy"), mask(tr, n, bool))
        np.save(os.path.join(dst, "val_idx.npy"), va.astype(np.int32))
        np.save(os.path.join(dst, "test_idx.npy"), te)
    elif kind == "npy2":
        np.save(os.path.join(dst, "edge_index.npy"), edges.astype(np.int32))
        np.save(os.path.join(dst, "x.npy"), x)
        np.save(os.path.join(dst, "y.npy"), y.astype(np.int32).reshape(-1, 1))
        np.save(os.path.join(dst, "train_idx.npy"), tr[::-1].copy())
        np.save(os.path.join(dst, "val_mask.npy"), mask(va, n, np.uint8))
        np.save(os.path.join(dst, "test_mask.npy"), mask(te, n, bool))
    elif kind in ("ogb", "ogbcsv"):
        ext = ".csv.gz" if kind == "ogb" else ".csv"
        op = (lambda p: gzip.open(p, "wt")) if kind == "ogb" else (lambda p: open(p, "w"))
        os.makedirs(os.path.join(dst, "raw"), exist_ok=True)
        os.makedirs(os.path.join(dst, "split", "random"), exist_ok=True)
        with op(os.path.join(dst, "raw", "edge" + ext)) as f:
            f.writelines("%d,%d\n" % (u, v) for u, v in edges)
        with op(os.path.join(dst, "raw", "node-feat" + ext)) as f:
            f.writelines(",".join("%.6f" % v for v in row) + "\n" for row in x)
        with op(os.path.join(dst, "raw", "node-label" + ext)) as f:
            f.writelines("%d\n" % v for v in y)
        with op(os.path.join(dst, "raw", "num-node-list" + ext)) as f:
            f.write("%d\n" % n)
        for name, ids in (("train", tr), ("valid", va), ("test", te)):
            with op(os.path.join(dst, "split", "random", name + ext)) as f:
                f.writelines("%d\n" % v for v in ids)
    else:
        sys.exit("unknown kind " + kind)


if __name__ == "__main__":
    main()
