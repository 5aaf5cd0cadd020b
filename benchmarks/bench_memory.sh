#!/usr/bin/env bash
# bench_memory.sh: `erase-mpi estimate` (the buffer-table memory model) against measured peak RSS
# per rank. Environment (defaults):
#   NODES="100000 300000"  graphs to generate (CSBM, generate's defaults: degree 10, F = 128,
#                          K = 10)
#   RANKS=2                ranks of the predicted-vs-measured runs
#   SCALING=               a node count: also the memory-falls-with-P table at 1, 2 and 4 ranks
#   DIR=/tmp/bench_memory  BIN=build/erase-mpi
# For each size: generate on 2 ranks, partition --parts RANKS (METIS), estimate, then
#   ERASE_MEM_REPORT=1 mpirun -n RANKS erase-mpi train --feature-norm none --epochs 2 --out runN.h5
# which prints each rank's peak RSS (VmHWM), the peak of the bytes live in the buffer tables and
# the largest allocation outside them; the table compares them to the prediction per rank.
# SCALING=N: `train --epochs 1` (no --out) on the N-node graph and on a 1000-node graph at 1, 2
# and 4 ranks with ERASE_MEM_REPORT=2: the peak RSS of the setup alone (at the "setup" mark) and
# through epoch 1, the 1000-node run's at the same rank count subtracted, the ratios to one rank,
# and the model's predictions beside them (setup: the steps before the model's buffers are
# touched; epoch: the training peak). Runs on the machine it is given; prints markdown.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(readlink -f "${BIN:-$root/build/erase-mpi}")
DIR=${DIR:-/tmp/bench_memory}
NODES=${NODES:-"100000 300000"}
RANKS=${RANKS:-2}
SCALING=${SCALING:-}
MPIEXEC=${MPIEXEC:-mpirun}
source "$root/scripts/env.sh"
mkdir -p "$DIR"
cd "$DIR"
log() { echo "bench_memory: $*" >&2; }

graph() { # graph N [partitions...]
  local n=$1; shift
  local extra=""
  [ "$n" -lt 20000 ] && extra="--train-per-class 5 --val 50 --test 100"
  [ -f "g$n.h5" ] || $MPIEXEC -n 2 "$BIN" generate --nodes "$n" $extra --out "g$n.h5" >&2
  for p in "$@"; do
    [ "$p" -gt 1 ] && $MPIEXEC -n "$p" "$BIN" partition --data "g$n.h5" --parts "$p" >&2
  done
  return 0
}

for n in $NODES; do
  graph "$n" "$RANKS"
  "$BIN" estimate --data "g$n.h5" --ranks "$RANKS" --epochs 2 > "est$n.txt"
  log "train $n nodes on $RANKS ranks"
  ERASE_MEM_REPORT=1 $MPIEXEC -n "$RANKS" "$BIN" train --data "g$n.h5" --feature-norm none \
    --epochs 2 --out "run$n.h5" --quiet 1 > "train$n.out" 2> "train$n.err"
done

if [ -n "$SCALING" ]; then
  graph "$SCALING" 2 4
  graph 1000 2 4
  for g in "$SCALING" 1000; do
    for p in 1 2 4; do
      log "train $g nodes on $p ranks (epoch 1, no --out)"
      "$BIN" estimate --data "g$g.h5" --ranks "$p" --epochs 1 > "sest${g}_$p.txt"
      ERASE_MEM_REPORT=2 $MPIEXEC -n "$p" "$BIN" train --data "g$g.h5" --feature-norm none \
        --epochs 1 --quiet 1 > "strain${g}_$p.out" 2> "strain${g}_$p.err"
    done
  done
fi

/usr/bin/python3 - "$DIR" "$NODES" "$RANKS" "$SCALING" <<'PY'
import re, sys
d, nodes, ranks, scaling = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), sys.argv[4]
MiB = 2**20
def measured(path):  # rank -> (peak RSS MiB, tables peak MiB, outside B, site)
    out = {}
    for l in open(path):
        m = re.search(r"memory rank (\d+): peak RSS (\d+) KB, tables peak (\d+) B, largest "
                      r"allocation outside the tables (\d+) B \((.*)\)", l)
        if m:
            out[int(m[1])] = (int(m[2]) / 1024, int(m[3]) / MiB, int(m[4]), m[5])
    return out
def setup_peak(path):  # rank -> peak RSS MiB at the "setup" mark
    return {int(r): int(k) / 1024 for r, k in
            re.findall(r"memory rank (\d+) at setup: .*peak RSS (\d+) KB", open(path).read())}
def predicted(path):  # rank -> (with --out, training, setup, tables with --out, tables training)
    return {int(m[0]): tuple(map(float, m[1:])) for m in re.findall(
        r"rank (\d+): .* -> ([\d.]+) MiB \(training ([\d.]+), setup ([\d.]+); tables ([\d.]+), "
        r"training ([\d.]+)\)", open(path).read())}
def resident(path):  # the model's setup before its buffers are touched (max over ranks)
    return float(re.search(r"train: setup, resident\s+([\d.]+)", open(path).read())[1])

print(f"Predicted vs measured peak per rank, {ranks} ranks, `train --feature-norm none --epochs 2 "
      f"--out` (METIS partitions):\n")
print("| nodes | rank | predicted MiB | measured peak RSS MiB | error | tables: predicted MiB | "
      "tables: measured MiB | largest allocation outside the tables |")
print("|---|---|---|---|---|---|---|---|")
for n in nodes:
    pr, me = predicted(f"{d}/est{n}.txt"), measured(f"{d}/train{n}.err")
    for r in sorted(me):
        p, m = pr[r], me[r]
        print(f"| {n} | {r} | {p[0]:.1f} | {m[0]:.1f} | {100 * (p[0] / m[0] - 1):+.1f} % | "
              f"{p[3]:.1f} | {m[1]:.1f} | {m[2]} B ({m[3]}) |")

if scaling:
    print(f"\nPeak RSS per rank (the largest rank) on the {scaling}-node graph minus the same "
          f"binary's on a 1000-node graph at the same rank count, `train --feature-norm none "
          f"--epochs 1` (no --out):\n")
    print("| P | setup alone: measured - baseline MiB | ratio to P=1 | model MiB | ratio | "
          "through epoch 1: measured - baseline MiB | ratio to P=1 | model MiB | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    row = {}
    for p in (1, 2, 4):
        big, tiny = f"{d}/strain{scaling}_{p}.err", f"{d}/strain1000_{p}.err"
        s = max(setup_peak(big).values()) - max(setup_peak(tiny).values())
        e = max(v[0] for v in measured(big).values()) - max(v[0] for v in measured(tiny).values())
        pb, pt = predicted(f"{d}/sest{scaling}_{p}.txt"), predicted(f"{d}/sest1000_{p}.txt")
        ms = resident(f"{d}/sest{scaling}_{p}.txt") - resident(f"{d}/sest1000_{p}.txt")
        me = max(v[1] for v in pb.values()) - max(v[1] for v in pt.values())
        row[p] = (s, ms, e, me)
        r1 = row[1]
        print(f"| {p} | {s:.1f} | {s / r1[0]:.3f} | {ms:.1f} | {ms / r1[1]:.3f} | {e:.1f} | "
              f"{e / r1[2]:.3f} | {me:.1f} | {me / r1[3]:.3f} |")
PY
