#!/usr/bin/env python3
"""project_scaling.py OUT.png [EST_DIR [RUN.jsonl]]: project the 1M-node epoch time to 8..256
cluster nodes from (1) the per-phase seconds measured on this machine at 2 ranks (medians of epochs
2.. of RUN.jsonl, the `train --log-json` of the 2-rank 1M run; without it the figures quoted in
benchmarks/RESULTS.md's million-node section), (2) the halo volume per rank from real METIS partitions at P = 2..64
(`erase-mpi estimate` logs estP<P>.log in EST_DIR; beyond 64 parts the measured P^-0.6 trend is
extended), and (3) stated network parameters. One rank per node, one core per rank (what was
measured); compute scales with the resident rows per rank (owned + ghosts); the MCR2
factorizations are split over the ranks (one 512^2 factor + inverse per rank at P >= 11) and
their inverses allgathered. Prints a table and writes a PNG. A model, not a measurement."""
import json, math, os, re, statistics, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = sys.argv[1]
est_dir = sys.argv[2] if len(sys.argv) > 2 else "."
N = 1_000_000
# measured at P=2 on this machine (seconds per epoch, slowest rank; RESULTS.md)
phases = {"encoder_fwd": 7.0, "encoder_bwd": 11.7, "eval_fwd": 1.1, "labels": 1.7,
          "loss": 4.9, "probe": 0.03}
if len(sys.argv) > 3:
    ep = [json.loads(l) for l in open(sys.argv[3])]
    ep = [o for o in ep if "phases" in o][1:]
    phases = {k: statistics.median(o["phases"][k] for o in ep) for k in phases}
solve_one = 0.005                    # one double 512^2 Cholesky + inverse (dpotrf + dpotri), s
n_mat = 11                           # K + 1 matrices, K = 10
def solve_time(P):                   # the batch split over the ranks, packed inverses allgathered
    return math.ceil(n_mat / P) * solve_one + n_mat * 512 * 513 / 2 * 8 / net_bw
net_bw, net_lat = 12.5e9, 2e-6       # 100 Gb/s InfiniBand-class link, 2 us latency (stated)
halo_row = 6544                      # bytes per ghost row per epoch (estimate; read from the logs)
params = 166_144
ghost = {}
for P in (2, 4, 8, 16, 32, 64):
    f = os.path.join(est_dir, "est1000000.txt" if P == 2 else f"estP{P}.log")
    txt = open(f).read() if os.path.exists(f) else ""
    m = re.search(r"total ghosts (\d+)", txt)
    if m: ghost[P] = int(m.group(1)) / P
    m = re.search(r"(\d+) B per ghost row", txt)
    if m: halo_row = int(m.group(1))
def ghosts_per_rank(P):
    if P in ghost: return ghost[P]
    Pm = max(ghost)
    return ghost[Pm] * (P / Pm) ** -0.6
base_rows = N / 2 + ghosts_per_rank(2)
compute_p2 = sum(phases.values()) - math.ceil(n_mat / 2) * solve_one
rows = []
for P in (2, 8, 16, 32, 64, 128, 256):
    g = ghosts_per_rank(P)
    comp = compute_p2 * (N / P + g) / base_rows + solve_time(P)
    halo = g * halo_row / net_bw + 16 * 11 * net_lat  # ~16 neighbours, 6 GAT + 5 label exchanges
    allred = 2 * math.log2(P) * net_lat + 2 * params * 4 / net_bw + 3 * math.log2(P) * net_lat
    rows.append((P, comp, halo + allred, comp + halo + allred))
print("| nodes (ranks) | compute s | communication s | epoch s | speedup vs 2 | efficiency |")
print("|---|---|---|---|---|---|")
t2 = rows[0][3]
for P, c, m, t in rows:
    print(f"| {P} | {c:.2f} | {m:.3f} | {t:.2f} | {t2 / t:.1f} | {t2 / t * 2 / P:.2f} |")
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog([r[0] for r in rows], [r[3] for r in rows], "o-", label="projected epoch")
ax.loglog([r[0] for r in rows], [r[1] for r in rows], "s--", label="compute")
ax.loglog([r[0] for r in rows], [r[2] for r in rows], "^--", label="communication")
ax.loglog([r[0] for r in rows], [t2 * 2 / r[0] for r in rows], ":", label="ideal")
ax.set_xlabel("cluster nodes (1 rank each)"); ax.set_ylabel("seconds per epoch")
ax.set_title("ERASE-MPI, 1M nodes, reference widths (model)")
ax.legend(); fig.tight_layout(); fig.savefig(out, dpi=110)
print(f"wrote {out}")
