#!/usr/bin/env bash
# bench_scale.sh: the million-node study of benchmarks/RESULTS.md in one command. For each graph
# size it generates a CSBM (degree 10, 128 features, 10 classes; reused if present), partitions it
# with METIS for RANKS ranks, prints `erase-mpi estimate`, trains EPOCHS epochs at the reference
# widths with 30 % asymmetric noise under /usr/bin/time (peak RSS per rank) writing --out and
# --log-json, then tabulates per-phase medians (epochs 2..EPOCHS), log-log slopes across sizes,
# measured vs predicted memory, and the epoch against its floor. ONE_RANK_EPOCHS > 0 also trains
# the largest graph on one rank (block partition) for the 1-vs-RANKS speedup.
# It does not check accuracy. Needs a built build/erase-mpi and /usr/bin/python3 with numpy.
#   NODES="100000 300000 1000000" EPOCHS=3 RANKS=2 ONE_RANK_EPOCHS=0 DIR=... bench_scale.sh
# REUSE=1 keeps (does not rerun) sizes whose training log already exists in DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env.sh"
BIN=${ERASE_BIN:-$root/build/erase-mpi}
NODES=${NODES:-100000 300000 1000000}
EPOCHS=${EPOCHS:-3}
RANKS=${RANKS:-2}
ONE_RANK_EPOCHS=${ONE_RANK_EPOCHS:-0}
DIR=${DIR:-$root/benchmarks/out/scale}
PY=${PY:-/usr/bin/python3}
mkdir -p "$DIR"
# floor rates: the sgemm rate is measured here, on the epoch's shapes with the BLAS kernels in
# use, by bench_gemm.sh (each of two processes at once; the mean of their RATE lines) unless
# SGEMM_GFS is given; the memory rate is the guide's per-core stream figure unless STREAM_GBS is
# given
STREAM_GBS=${STREAM_GBS:-13}
if [ -z "${SGEMM_GFS:-}" ]; then
  "$root/benchmarks/bench_gemm.sh" > "$DIR/gemm.txt"
  SGEMM_GFS=$(awk '/^== two at once/{t=1} t && /^RATE/{s+=$2; n++} END{if (n) printf "%.1f", s/n}' "$DIR/gemm.txt")
  [ -n "$SGEMM_GFS" ] || { echo "bench_scale: bench_gemm.sh gave no rate" >&2; exit 1; }
  echo "sgemm rate (epoch shapes, two processes at once): $SGEMM_GFS GF/s per core" >&2
fi
[ "$EPOCHS" -ge 2 ] || { echo "bench_scale: EPOCHS must be >= 2 (epoch 1 is dropped)" >&2; exit 2; }

run() { # print the command, run it; on failure say which one
  echo "\$ $*" >&2
  local rc=0
  "$@" || rc=$?
  [ $rc -eq 0 ] || { echo "bench_scale: command failed with exit code $rc: $*" >&2; exit $rc; }
}
TRAIN="--noise asymm --noise-ratio 0.3 --feature-norm none --quiet 1"
TIME=(/usr/bin/time -f "rank RSS %M KB wall %e s")

echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2
largest=
for n in $NODES; do
  data="$DIR/g$n.h5"
  if [ ! -f "$data" ]; then
    run mpirun -n "$RANKS" "$BIN" generate --nodes "$n" --avg-degree 10 --classes 10 \
      --features 128 --homophily 0.8 --seed 1 --out "$data" > "$DIR/gen$n.log"
  fi
  if ! "$BIN" info "$data" | grep "^  P=$RANKS " > /dev/null; then # partitioned once, reused
    run mpirun -n "$RANKS" "$BIN" partition --data "$data" --parts "$RANKS" > "$DIR/part$n.log"
  fi
  run "$BIN" estimate --data "$data" --ranks "$RANKS" > "$DIR/est$n.txt"
  largest=$n
  if [ -n "${REUSE:-}" ] && [ -f "$DIR/t$n.jsonl" ]; then continue; fi # tabulate earlier runs
  rm -f "$DIR/t$n.jsonl"
  run mpirun -n "$RANKS" "${TIME[@]}" "$BIN" train --data "$data" --epochs "$EPOCHS" $TRAIN \
    --log-json "$DIR/t$n.jsonl" --out "$DIR/run$n.h5" > "$DIR/t$n.out" 2> "$DIR/t$n.err"
  echo "$(date +%T) N=$n done; loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
if [ "$ONE_RANK_EPOCHS" -gt 0 ] && ! { [ -n "${REUSE:-}" ] && [ -f "$DIR/one.jsonl" ]; }; then
  rm -f "$DIR/one.jsonl"
  run "$BIN" estimate --data "$DIR/g$largest.h5" --ranks 1 > "$DIR/est_one.txt"
  run mpirun -n 1 "${TIME[@]}" "$BIN" train --data "$DIR/g$largest.h5" --partition block \
    --epochs "$ONE_RANK_EPOCHS" $TRAIN --log-json "$DIR/one.jsonl" > "$DIR/one.out" 2> "$DIR/one.err"
fi

"$PY" - "$DIR" "$RANKS" "$ONE_RANK_EPOCHS" "$largest" "$SGEMM_GFS" "$STREAM_GBS" $NODES <<'PY'
import json, re, sys
import numpy as np
out, P, one_ep, largest = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
gfs, gbs = float(sys.argv[5]) * 1e9, float(sys.argv[6]) * 1e9
sizes = [int(a) for a in sys.argv[7:]]
names = ["encoder_fwd", "labels", "loss", "encoder_bwd", "grad_allreduce", "adam", "eval_fwd", "probe"]

def epochs(path):
    ep = [json.loads(l) for l in open(path)]
    return [o for o in ep if "phases" in o]

def phases(ep):  # medians over epochs 2.. (epoch 1 first-touches every buffer)
    ep = ep[1:]
    ph = {k: float(np.median([o["phases"][k] for o in ep])) for k in names}
    ph["epoch"] = float(np.median([o["compute_s"] + o["comm_s"] for o in ep]))
    ph["comm"] = float(np.median([o["comm_s"] for o in ep]))
    return ph

def rss_mib(path):
    return [int(m) / 1024 for m in re.findall(r"rank RSS (\d+) KB", open(path).read())]

def predicted(path, training_only=False):  # runs with --out peak in the output phase
    txt = open(path).read()
    m = re.search(r"training alone: max ([\d.]+) MiB", txt) if training_only else None
    return float((m or re.search(r"peak per rank: max ([\d.]+) MiB", txt)).group(1))

def ghosts_edges(path):
    txt = open(path).read()
    g = sum(int(x) for x in re.findall(r"(\d+) ghosts,", txt))
    e = sum(int(x) for x in re.findall(r"(\d+) edges,", txt))
    return g, e

rows = {}
for n in sizes:
    ep = epochs(f"{out}/t{n}.jsonl")
    rows[n] = dict(ph=phases(ep), n_ep=len(ep), rss=rss_mib(f"{out}/t{n}.err"),
                   pred=predicted(f"{out}/est{n}.txt"), ge=ghosts_edges(f"{out}/est{n}.txt"),
                   loss=[o["loss"] for o in ep])

print(f"\nSeconds per phase (slowest rank), medians over epochs 2..{rows[sizes[-1]]['n_ep']}, {P} ranks:\n")
hdr = "| phase | " + " | ".join(f"{n // 1000}K" for n in sizes) + (" | slope |" if len(sizes) > 1 else " |")
print(hdr)
print("|---" * (len(sizes) + 1 + (len(sizes) > 1)) + "|")
x = np.log(np.array(sizes, float))
for k in names + ["comm", "epoch"]:
    v = [rows[n]["ph"][k] for n in sizes]
    line = f"| {k} | " + " | ".join(f"{t:.2f}" for t in v)
    if len(sizes) > 1:
        slope = np.polyfit(x, np.log(np.maximum(v, 1e-9)), 1)[0] if min(v) > 1e-4 else float("nan")
        line += f" | {slope:.2f}"
    print(line + " |")
m = [max(rows[n]["rss"]) for n in sizes]
line = "| peak RSS per rank (MiB) | " + " | ".join(f"{t:.0f}" for t in m)
if len(sizes) > 1:
    line += f" | {np.polyfit(x, np.log(m), 1)[0]:.2f}"
print(line + " |")

print("\nMemory, predicted by `erase-mpi estimate` vs measured peak RSS (max over ranks):\n")
print("| nodes | predicted MiB | measured MiB | error |")
print("|---|---|---|---|")
for n in sizes:
    r = rows[n]
    print(f"| {n} | {r['pred']:.0f} | {max(r['rss']):.0f} | {100 * (r['pred'] / max(r['rss']) - 1):+.1f} % |")

print(f"\nFloor (all {P} cores: GEMM flops at {gfs / 1e9:.0f} GF/s per core + GAT gathers at {gbs / 1e9:.0f} GB/s per core):\n")
print("| nodes | GEMM TF | gather GB | floor s | measured s | multiple |")
print("|---|---|---|---|---|---|")
for n in sizes:
    ghosts, edges_local = rows[n]["ge"]  # directed local edges summed over ranks = 2E
    F, H1, d = 128, 256, 512
    # what an epoch runs on all rows: layer 1's x W1 and dW1, layer 2's u2 W2, dW2 and du2, the
    # MCR² Grams (n d^2) and gradient (2 n d^2); the evaluation forward runs on the labelled
    # rows' neighbourhood only and is left out
    flops = (2 * 2 * n * F * H1 + 3 * 2 * n * H1 * d + n * d * d + 2 * n * d * d)
    # 2 passes (forward aggregation, backward gather) of one hidden-wide row per edge and self
    # loop in each layer (layer 2 aggregates its 256-wide input); the per-row backward pass and
    # the scores touch H-wide values only
    gb = 2 * (edges_local + n) * (H1 + H1) * 4
    floor = flops / (P * gfs) + gb / (P * gbs)
    meas = rows[n]["ph"]["epoch"]
    print(f"| {n} | {flops / 1e12:.2f} | {gb / 1e9:.1f} | {floor:.2f} | {meas:.2f} | {meas / floor:.1f}x |")

if one_ep > 0:
    ep1 = epochs(f"{out}/one.jsonl")
    t1 = phases(ep1)
    tp = rows[int(largest)]["ph"]
    print(f"\nStrong scaling on {largest} nodes (medians of epochs 2..): 1 rank {t1['epoch']:.2f} s, "
          f"{P} ranks {tp['epoch']:.2f} s: speedup {t1['epoch'] / tp['epoch']:.2f}; peak RSS "
          f"1 rank {max(rss_mib(f'{out}/one.err')):.0f} MiB (predicted, no --out: "
          f"{predicted(f'{out}/est_one.txt', True):.0f})")
    k = min(len(ep1), len(rows[int(largest)]["loss"]))
    l1, lp = np.array([o["loss"] for o in ep1[:k]]), np.array(rows[int(largest)]["loss"][:k])
    print(f"loss, 1 vs {P} ranks, first {k} epochs: max relative difference "
          f"{float(np.max(np.abs(l1 - lp) / np.abs(l1))):.2e}")
    print("| phase | 1 rank | " + f"{P} ranks | speedup |\n|---|---|---|---|")
    for k in names + ["epoch"]:
        print(f"| {k} | {t1[k]:.2f} | {tp[k]:.2f} | {t1[k] / max(tp[k], 1e-9):.2f} |")
PY
