#!/usr/bin/env python3
"""project_scaling.py OUT.png [EST_DIR[=LABEL] ...] [RUN.jsonl]: project the 1M-node epoch time to
8..256 cluster nodes, one projection per EST_DIR (one graph each, side by side), from (1) the
per-phase seconds measured on this machine at 2 ranks (medians of epochs 2.. of RUN.jsonl, the
`train --log-json` of the 2-rank 1M run; without it the figures quoted in benchmarks/RESULTS.md's
million-node section), (2) the halo volume per rank from real METIS partitions at P = 2..64
(`erase-mpi estimate` logs estP<P>.log in EST_DIR, as benchmarks/bench_halo_volume.sh writes
them; for P = 2 also est1000000.txt, bench_scale.sh's name; beyond the largest measured P the
ghosts per rank follow the log-log least-squares trend of P >= 8, printed per graph), and (3)
stated network parameters. One rank per node, one core per rank (what was measured); compute
scales with the resident rows per rank (owned + ghosts) relative to the measured run, whose graph
is the FIRST EST_DIR; the MCR2 factorizations are split over the ranks (one 512^2 factor +
inverse per rank at P >= 11) and their inverses allgathered. Prints a table per graph and writes
a PNG. A model, not a measurement."""
import json, math, os, re, statistics, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = sys.argv[1]
runs = [a for a in sys.argv[2:] if a.endswith(".jsonl")]
dirs = [a for a in sys.argv[2:] if not a.endswith(".jsonl")] or ["."]
N = 1_000_000
# measured at P=2 on this machine (seconds per epoch, slowest rank; RESULTS.md)
phases = {"encoder_fwd": 7.0, "encoder_bwd": 11.7, "eval_fwd": 1.1, "labels": 1.7,
          "loss": 4.9, "probe": 0.03}
if runs:
    ep = [json.loads(l) for l in open(runs[0])]
    ep = [o for o in ep if "phases" in o][1:]
    phases = {k: statistics.median(o["phases"][k] for o in ep) for k in phases}
solve_one = 0.005                    # one double 512^2 Cholesky + inverse (dpotrf + dpotri), s
n_mat = 11                           # K + 1 matrices, K = 10
net_bw, net_lat = 12.5e9, 2e-6       # 100 Gb/s InfiniBand-class link, 2 us latency (stated)
params = 166_144
PS = (2, 8, 16, 32, 64, 128, 256)


def solve_time(P):                   # the batch split over the ranks, packed inverses allgathered
    return math.ceil(n_mat / P) * solve_one + n_mat * 512 * 513 / 2 * 8 / net_bw


def read_ghosts(d):
    """Ghosts per rank by P, bytes per ghost row, and the trend exponent beyond the data."""
    ghost, row = {}, 6544            # bytes per ghost row per epoch (read from the logs)
    for P in (2, 4, 8, 16, 32, 64):
        names = [f"estP{P}.log"] + (["est1000000.txt"] if P == 2 else [])
        for name in names:
            f = os.path.join(d, name)
            txt = open(f).read() if os.path.exists(f) else ""
            m = re.search(r"total ghosts (\d+)", txt)
            if m:
                ghost[P] = int(m.group(1)) / P
                m = re.search(r"(\d+) B per ghost row", txt)
                if m: row = int(m.group(1))
                break
    if 2 not in ghost: sys.exit(f"{d}: no estimate log for P = 2 (estP2.log)")
    pts = [(math.log(P), math.log(g)) for P, g in ghost.items() if P >= 8 and g > 0]
    slope = -0.6                     # the CSBM's trend, when fewer than two points P >= 8
    if len(pts) >= 2:
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        slope = (sum((x - mx) * (y - my) for x, y in pts) /
                 sum((x - mx) ** 2 for x, _ in pts))
    return ghost, row, slope


graphs = []
for spec in dirs:
    d, _, label = spec.partition("=")
    ghost, row, slope = read_ghosts(d)
    graphs.append((label or os.path.basename(os.path.normpath(d)), ghost, row, slope))

# compute per resident row, from the measured run (the first graph at P = 2)
ref_rows = N / 2 + graphs[0][1][2]
compute_p2 = sum(phases.values()) - math.ceil(n_mat / 2) * solve_one
fig, ax = plt.subplots(figsize=(6.5, 4.3))
for gi, (label, ghost, halo_row, slope) in enumerate(graphs):
    def ghosts_per_rank(P):
        if P in ghost: return ghost[P]
        Pm = max(ghost)
        return ghost[Pm] * (P / Pm) ** slope
    rows = []
    for P in PS:
        g = ghosts_per_rank(P)
        comp = compute_p2 * (N / P + g) / ref_rows + solve_time(P)
        halo = g * halo_row / net_bw + 16 * 11 * net_lat  # ~16 neighbours, 6 GAT + 5 label
        allred = 2 * math.log2(P) * net_lat + 2 * params * 4 / net_bw + 3 * math.log2(P) * net_lat
        rows.append((P, g, comp, halo + allred, comp + halo + allred))
    print(f"\n{label}: ghosts per rank measured at P = {sorted(ghost)}, beyond: P^{slope:.2f}; "
          f"{halo_row} B per ghost row")
    print("| nodes (ranks) | ghosts per rank | compute s | communication s | epoch s "
          "| speedup vs 2 | efficiency |")
    print("|---|---|---|---|---|---|---|")
    t2 = rows[0][4]
    for P, g, c, m, t in rows:
        est = "" if P in ghost else " (trend)"
        print(f"| {P} | {g:,.0f}{est} | {c:.2f} | {m:.3f} | {t:.2f} | {t2 / t:.1f} "
              f"| {t2 / t * 2 / P:.2f} |")
    col = f"C{gi}"
    ax.loglog([r[0] for r in rows], [r[4] for r in rows], "o-", color=col,
              label=f"{label}: projected epoch")
    ax.loglog([r[0] for r in rows], [r[3] for r in rows], "^--", color=col,
              label=f"{label}: communication")
    ax.loglog([r[0] for r in rows], [t2 * 2 / r[0] for r in rows], ":", color=col,
              label=f"{label}: ideal from P = 2")
ax.set_xlabel("cluster nodes (1 rank each)"); ax.set_ylabel("seconds per epoch")
ax.set_title("ERASE-MPI, 1M nodes, reference widths (model)")
ax.legend(fontsize=7); fig.tight_layout(); fig.savefig(out, dpi=110)
print(f"\nwrote {out}")
