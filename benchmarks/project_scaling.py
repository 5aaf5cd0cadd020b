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
a PNG. A model, not a measurement.

project_scaling.py --measured WORK --links "RATE[/DELAY] ..." [--nodes "1 2 3"] [--epochs E1 E2]:
the same communication model against a measured study (benchmarks/bench_shaped_scaling.sh's
WORK). It prints the measured epochs (and the jobs' scaling.csv where the study made them),
then, for each shaped link setting and node count n > 1 it predicts the epoch as the unshaped
epoch at n nodes (the compute rate measured there, with the veth links' own communication
time) plus the time the link adds: the busiest node's bytes per epoch (the larger of its sent
and received, measured on the unshaped links; the bytes do not depend on the link) at the rate,
plus the latency steps of the epoch's MPI calls (counted by benchmarks/mpi_calls.c on the
unshaped run, the busiest rank) times the added one-way delay node to node (2 x DELAY: two
links). Steps per call at P ranks (Open MPI's tuned defaults as stated here, not read from it):
allreduce log2(P') + 2 [P' the power of two <= P, +2 only when P != P'] (recursive doubling;
above the 64 KiB eager limit a ring, 2 (P - 1)), reduce and bcast ceil(log2 P) (binomial
trees), allgatherv P - 1 (ring), a halo round (waitall) 1; a message above the eager limit adds
a rendezvous round trip (2 steps). Everything is exposed: no overlap. A second prediction
takes the link as MPI measured it instead of its nominal rate and delay (WORK/link_LABEL, the
bench's ping-pong between two nodes: one-way latency of 8 B, bandwidth of 1 MiB beyond that):
unshaped epoch + bytes x (1/bw - 1/bw unshaped) + steps x (latency - latency unshaped). The
table gives both beside the measured median, and how much of the added time the run hid.
"""
import csv, glob, json, math, os, re, statistics, sys

EAGER = 65536                        # Open MPI's TCP eager limit (btl_tcp_eager_limit), bytes


def coll_steps(kind, P, large):
    """Sequential message steps (one-way latencies) of one call of KIND at P ranks."""
    lg = math.ceil(math.log2(P)) if P > 1 else 0
    if kind == "allreduce":
        if large: return 2 * (P - 1)
        pof2 = 1 << int(math.log2(P))
        return int(math.log2(pof2)) + (2 if P != pof2 else 0)
    if kind in ("reduce", "bcast", "allgather", "barrier", "gather", "exscan"): return lg
    if kind in ("allgatherv", "alltoall", "alltoallv", "reduce_scatter"): return P - 1
    if kind == "waitall": return 1
    return 0


def latency_steps(calls, P):
    """Latency steps per epoch from per-epoch call counts {kind: (calls, bytes, large)}."""
    steps = 0.0
    for kind, (n, _, large) in calls.items():
        if kind in ("isend", "waitall"): continue
        # a large call's steps each carry a large message: + a rendezvous round trip each
        steps += max(n - large, 0) * coll_steps(kind, P, False)
        steps += large * coll_steps(kind, P, True) * 3
    # halo rounds: 1 step each, + a rendezvous round trip when the round carries a large message
    n_round, _, _ = calls.get("waitall", (0, 0, 0))
    n_send, _, large_send = calls.get("isend", (0, 0, 0))
    if n_round:
        steps += n_round + 2 * min(n_round, large_send / max(n_send / n_round, 1))
    return steps


def link_Bps(rate):
    m = re.fullmatch(r"([\d.]+)([kmgt]?)(bit|bps)", rate)
    if not m: sys.exit(f"cannot read the rate '{rate}'")
    v = float(m.group(1)) * 1000 ** ("kmgt".index(m.group(2)) + 1 if m.group(2) else 0)
    return v / 8 if m.group(3) == "bit" else v


def seconds(d):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", d)
    if not m: sys.exit(f"cannot read the delay '{d}'")
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]


def measured(argv):
    opts = {"--links": "10gbit 1gbit", "--nodes": "1 2 3", "--epochs": None}
    work, i = None, 0
    while i < len(argv):
        a = argv[i]
        if a == "--measured": work = argv[i + 1]; i += 2
        elif a == "--epochs": opts[a] = (int(argv[i + 1]), int(argv[i + 2])); i += 3
        elif a in opts: opts[a] = argv[i + 1]; i += 2
        else: sys.exit(f"project_scaling.py --measured: unknown argument {a}")
    e1, e2 = opts["--epochs"] or (2, 7)
    all_ncs = [int(n) for n in opts["--nodes"].split()]
    ncs = [n for n in all_ncs if n > 1]
    labels = [s.replace("/", "-") for s in opts["--links"].split()]
    med = statistics.median

    def run(label, n):               # median epoch, its halo waits, busiest link bytes / epoch
        files = sorted(glob.glob(f"{work}/r_{label}_{n}_{e2}_*.jsonl"))
        if not files: return None
        ep = [[o for o in map(json.loads, open(f)) if "phases" in o][1:] for f in files]
        epoch = med([med([sum(o["phases"].values()) for o in e]) for e in ep])
        wait = med([med([sum(o.get("halo_wait", {}).values()) for o in e]) for e in ep])
        busiest = []
        for r in range(1, len(files) + 1):
            b = lambda E: [tuple(map(int, l.split()))
                           for l in open(f"{work}/bytes_{label}_{n}_{E}_{r}")]
            busiest.append(max(max(t2 - t1, r2 - r1) / (e2 - e1)
                               for (t1, r1), (t2, r2) in zip(b(e1), b(e2))))
        return epoch, med(busiest), wait

    def link(label):                 # (one-way latency s, bandwidth B/s) measured by MPI
        f = f"{work}/link_{label}"
        if not os.path.exists(f): return None
        t = {}
        for l in open(f):
            _, size, sec = l.split()
            t.setdefault(int(size), []).append(float(sec))
        lat = med(t[8])
        return lat, 1048576 / (med(t[1048576]) - lat)

    def calls(n):                    # per epoch, the busiest rank's count of each kind
        per = {}
        for r in range(n):
            rows = {}
            for E in (e1, e2):
                f = f"{work}/calls_{n}_{E}.{r}"
                if not os.path.exists(f): return None
                for l in open(f):
                    k, c, b, lg = l.split()
                    rows.setdefault(k, []).append((int(c), int(b), int(lg)))
            for k, ((c1, b1, l1), (c2, b2, l2)) in rows.items():
                v = ((c2 - c1) / (e2 - e1), (b2 - b1) / (e2 - e1), (l2 - l1) / (e2 - e1))
                if k not in per or v[0] > per[k][0]: per[k] = v
        return per

    print("\nMeasured: median epoch (s), the halo waits inside it (s), the busiest node's link "
          "bytes per epoch (MB, max of sent and received):\n")
    print("| links | " + " | ".join(f"{n} node(s): epoch / waits / MB" for n in all_ncs) + " |")
    print("|---|" + "---|" * len(all_ncs))
    for label in ["none"] + labels:
        cells = []
        for n in all_ncs:            # one node uses no link: its unshaped run in every row
            r = run(label if n > 1 else "none", n)
            cells.append(f"{r[0]:.3f} / {r[2]:.3f} / {r[1] / 1e6:.2f}" if r else "(no run)")
        print(f"| {label} | " + " | ".join(cells) + " |")
    rows = []
    for label in ["none"] + labels:
        f = f"{work}/jobs-{label}/scaling.csv"
        if os.path.exists(f):
            rows += [(label, r) for r in csv.DictReader(open(f))]
    if rows:
        print("\nThe same study through jobs/submit_scaling.sh (train.sbatch, collect_scaling.py: "
              "WORK/jobs-LABEL/scaling.csv and scaling.png); epoch = compute_s + comm_s, median:\n")
        print("| links | ranks (= nodes) | hosts | epoch (s) | comm fraction | speedup | efficiency |")
        print("|---|---|---|---|---|---|---|")
        for label, r in rows:
            print(f"| {label} | {r['ranks']} | {r['hosts']} | {float(r['epoch_s']):.3f} | "
                  f"{float(r['comm_frac']):.2f} | {float(r['speedup']):.2f} | "
                  f"{float(r['efficiency']):.2f} |")

    print("\nPredicted by benchmarks/project_scaling.py --measured (unshaped epoch at n nodes + "
          "the busiest node's bytes at the rate + latency steps x the added node-to-node delay; "
          "no overlap) against the measured median epoch; 'hidden' = the part of the predicted "
          "added time the measured epoch did not add:\n")
    l0 = link("none")
    print("| links | MPI-measured link: one-way latency, bandwidth | nodes | unshaped epoch (s) "
          "| busiest MB | latency steps | transfer (s) | latency (s) | predicted (s) | measured (s) "
          "| predicted / measured | from the measured link (s) | / measured | hidden |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    worst = worst_m = 1.0
    for spec in opts["--links"].split():
        label = spec.replace("/", "-")
        rate, _, delay = spec.partition("/")
        bw = link_Bps(rate)
        lat = 2 * seconds(delay) if delay else 0.0
        for n in ncs:
            base, got, c = run("none", n), run(label, n), calls(n)
            if not base or not got:
                print(f"| {spec} | {n} | (no run) |||||||||"); continue
            steps = latency_steps(c, n) if c else float("nan")
            xfer, tl = base[1] / bw, steps * lat if c else 0.0
            pred = base[0] + xfer + tl
            worst = max(worst, pred / got[0], got[0] / pred)
            lk, pm, cell = link(label), float("nan"), "(not measured)"
            hidden = 1 - (got[0] - base[0]) / (xfer + tl) if xfer + tl > 0 else 0.0
            if lk and l0 and c:
                add = base[1] * (1 / lk[1] - 1 / l0[1]) + steps * (lk[0] - l0[0])
                pm = base[0] + add
                hidden = 1 - (got[0] - base[0]) / add if add > 0 else 0.0
                worst_m = max(worst_m, pm / got[0], got[0] / pm)
                cell = f"{lk[0] * 1e6:.0f} us, {lk[1] * 8 / 1e9:.2f} Gbit/s"
            print(f"| {spec} | {cell} | {n} | {base[0]:.3f} | {base[1] / 1e6:.2f} | {steps:.0f} | "
                  f"{xfer:.3f} | {tl:.3f} | {pred:.3f} | {got[0]:.3f} | {pred / got[0]:.2f} | "
                  f"{pm:.3f} | {pm / got[0]:.2f} | {100 * hidden:.0f} % |")
    if l0:
        print(f"\nunshaped links as MPI measured them: {l0[0] * 1e6:.0f} us one way, "
              f"{l0[1] * 8 / 1e9:.2f} Gbit/s; 'hidden' is against the prediction from the "
              "measured link where there is one")
    print(f"largest deviation: nominal link {worst:.2f}x, measured link {worst_m:.2f}x "
          "(target: within 1.25x)")
    if ncs and calls(max(ncs)):
        c = calls(max(ncs))
        print(f"MPI calls per epoch at {max(ncs)} ranks (busiest rank; large = above "
              f"{EAGER} B): " + ", ".join(f"{k} {v[0]:.1f} ({v[2]:.1f} large)"
                                           for k, v in sorted(c.items()) if v[0] > 0))


if len(sys.argv) > 1 and sys.argv[1] == "--measured":
    measured(sys.argv[1:])
    sys.exit(0)

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
# MPI calls per epoch {kind: (calls, bytes, calls above the eager limit)}, the busiest rank of
# a 3-rank run of the 50K-node strong study (mpi_calls.c; benchmarks/RESULTS.md); the latency
# steps at P follow coll_steps (the same model --measured checks against shaped links)
CALLS = {"allreduce": (68, 0, 2), "reduce": (30, 0, 0), "bcast": (31, 0, 0),
         "allgatherv": (1, 0, 1), "waitall": (11, 0, 0), "isend": (22, 0, 22)}
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
        halo = g * halo_row / net_bw
        allred = 2 * params * 4 / net_bw + latency_steps(CALLS, P) * net_lat
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
