#!/usr/bin/env bash
# bench_speedup.sh DATA.h5 [ROUNDS] [EPOCHS]: strong scaling 1 vs 2 ranks measured side by side:
# ROUNDS rounds of (one rank, then two ranks) training EPOCHS epochs each on DATA (partitioned for
# 2; the one-rank run uses the block partition), at the reference widths with 30 % asymmetric
# noise, no outputs. Prints each run's median epoch (epochs 2..) and each round's ratio, so a
# host whose speed drifts over minutes shows up in the rounds instead of in one ratio of two
# far-apart runs, then each phase per round and rank count. Needs a built build/erase-mpi and
# /usr/bin/python3. Not a test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env.sh"
BIN=${ERASE_BIN:-$root/build/erase-mpi}
DATA=${1:?usage: bench_speedup.sh DATA.h5 [ROUNDS] [EPOCHS]}
ROUNDS=${2:-2}; EPOCHS=${3:-4}
[ "$EPOCHS" -ge 2 ] || { echo "bench_speedup: EPOCHS must be >= 2 (epoch 1 is dropped)" >&2; exit 2; }
OUT=$(mktemp -d /tmp/er_speedup.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
ARGS="--epochs $EPOCHS --noise asymm --noise-ratio 0.3 --feature-norm none --quiet 1"
echo "host: $(nproc) cores; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
  echo "\$ mpirun -n 1 $BIN train --data $DATA --partition block $ARGS --log-json r$r.1.jsonl" >&2
  mpirun -n 1 "$BIN" train --data "$DATA" --partition block $ARGS --log-json "$OUT/r$r.1.jsonl" > /dev/null
  echo "\$ mpirun -n 2 $BIN train --data $DATA $ARGS --log-json r$r.2.jsonl" >&2
  mpirun -n 2 "$BIN" train --data "$DATA" $ARGS --log-json "$OUT/r$r.2.jsonl" > /dev/null
done
/usr/bin/python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def epochs(f):  # the epoch records after the first
    return [o for o in map(json.loads, open(f)) if "phases" in o][1:]
def med(f):
    t = [o["compute_s"] + o["comm_s"] for o in epochs(f)]
    return statistics.median(t), t
print("| round | 1 rank: median s (epochs 2..) | 2 ranks: median s | speedup |")
print("|---|---|---|---|")
all1, all2 = [], []
for r in range(1, rounds + 1):
    m1, t1 = med(f"{out}/r{r}.1.jsonl"); m2, t2 = med(f"{out}/r{r}.2.jsonl")
    all1 += t1; all2 += t2
    print(f"| {r} | {m1:.2f} ({', '.join(f'{x:.1f}' for x in t1)}) | {m2:.2f} "
          f"({', '.join(f'{x:.1f}' for x in t2)}) | {m1 / m2:.2f} |")
m1, m2 = statistics.median(all1), statistics.median(all2)
print(f"| all | {m1:.2f} | {m2:.2f} | {m1 / m2:.2f} |")

# Per phase and round (medians of epochs 2..; 2-rank halo waits in brackets): a round whose
# ratio drops shows which phases the slow stretch took, and whether at one rank count only.
def phases(f):
    ep = epochs(f)
    med = lambda d: {k: statistics.median(o[d][k] for o in ep) for k in ep[0].get(d, {})}
    return med("phases"), med("halo_wait")
names = None
rows = []
for r in range(1, rounds + 1):
    (p1, _), (p2, w2) = phases(f"{out}/r{r}.1.jsonl"), phases(f"{out}/r{r}.2.jsonl")
    names = names or [k for k in p1 if max(p1[k], p2.get(k, 0)) >= 0.01]
    rows.append((r, p1, p2, w2))
print()
print("| round | ranks | " + " | ".join(names) + " |")
print("|---|---|" + "---|" * len(names))
for r, p1, p2, w2 in rows:
    print(f"| {r} | 1 | " + " | ".join(f"{p1.get(k, 0):.2f}" for k in names) + " |")
    print(f"| {r} | 2 | " + " | ".join(f"{p2.get(k, 0):.2f}" + (f" [{w2[k]:.2f}]" if k in w2 else "")
                                      for k in names) + " |")
PY
