#!/usr/bin/python3
"""estimate_papers100m.py [BIN]: the per-rank memory of an ogbn-papers100M-shaped graph (111M
nodes, 1.6B edges, 128 features, 172 classes, OGB's 1,207,179 training rows) at P = 64, 128, 256
from `erase-mpi estimate` alone (no dataset), for two ghost fractions (HSBM-like 0.473 and
CSBM-like 5.522 ghost rows per owned row: the 1M-node METIS partitions at P = 64 in RESULTS.md),
as markdown tables. The steady epoch is split into its terms by evaluating the model again with
no ghosts and with no training rows."""
import re, subprocess, sys

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/erase-mpi"
SHAPE = ["--nodes", "111059956", "--edges", "1615685872", "--features", "128", "--classes", "172"]
STEPS = {"graph build": "train: read + build graph", "denoise": "train: denoise",
         "setup": "train: setup (before epoch 1)", "epoch": "train: epoch (steady)",
         "write --out": "train: write --out", "import": "import", "PT-Scotch": "partition: PT-Scotch*"}

def run(P, G, train):
    out = subprocess.run([BIN, "estimate", *SHAPE, "--train-rows", str(train), "--ranks", str(P),
                          "--ghost-fraction", str(G)], check=True, capture_output=True,
                         text=True).stdout
    v = {}
    for k, label in STEPS.items():
        m = re.search(r"^  " + re.escape(label) + r"\s+([\d.]+)", out, re.M)
        v[k] = float(m.group(1)) / 1024.0
    m = re.search(r"peak per rank: max ([\d.]+) MiB", out)
    v["peak"] = float(m.group(1)) / 1024.0
    return v

N, TRAIN = 111059956, 1207179
for name, G in (("HSBM-like", 0.473), ("CSBM-like", 5.522)):
    print(f"\n{name}, G = {G}:\n")
    print("| P | owned rows | ghost rows | graph build | denoise | setup | epoch | write --out | "
          "**peak** | epoch: owned rows | epoch: ghosts | epoch: probe training set | import | "
          "PT-Scotch (lower bound) | ranks per 256 GB node |")
    print("|---|" + "---|" * 14)
    for P in (64, 128, 256):
        a, g0, t0 = run(P, G, TRAIN), run(P, 0, TRAIN), run(P, G, 0)
        n = -(-N // P)
        ghosts, probe = a["epoch"] - g0["epoch"], a["epoch"] - t0["epoch"]
        owned = a["epoch"] - ghosts - probe
        fit = int(238 // a["peak"])
        print(f"| {P} | {n:,} | {round(G * n):,} | {a['graph build']:.2f} | {a['denoise']:.2f} | "
              f"{a['setup']:.2f} | {a['epoch']:.2f} | {a['write --out']:.2f} | "
              f"**{a['peak']:.1f}** | {owned:.1f} | {ghosts:.1f} | {probe:.2f} | "
              f"{a['import']:.2f} | {a['PT-Scotch']:.2f} | {fit} |")
