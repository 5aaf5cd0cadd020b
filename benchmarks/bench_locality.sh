#!/usr/bin/env bash
# bench_locality.sh [NODES] [RANKS] [EPOCHS] [ROUNDS]: what `train --reorder rcm` (each rank's rows
# in reverse Cuthill-McKee order) does to the GAT passes' times, on (a) Cora, (b) an HSBM graph
# of NODES nodes (community structure, ids laid out by community) and (c) the same graph with its
# node ids randomly shuffled (benchmarks/shuffle_ids.py, re-imported), each METIS-partitioned for
# RANKS ranks. Per dataset, ROUNDS rounds each run none and rcm (alternating which goes first);
# per run the median over its epochs (the first SKIP dropped) of the phases encoder_fwd,
# encoder_bwd and eval_fwd of the JSON log (slowest rank); then the median over the rounds and
# the ratio none/rcm (> 1: rcm faster). Also rank 0's seconds making the order (load.order_s).
# It does not check correctness (tests/test_reorder.sh does).
# Defaults: 100000 nodes, 2 ranks, 20 epochs, 3 rounds; env SKIP (2), OUT, ERASE_BIN, CORA,
# TRAIN_ARGS (model and run options; default the reference model, --noise asymm 0.3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env.sh"
NODES=${1:-100000}; RANKS=${2:-2}; EPOCHS=${3:-20}; ROUNDS=${4:-3}; SKIP=${SKIP:-2}
BIN=${ERASE_BIN:-$root/build/erase-mpi}
CORA=${CORA:-$root/../shared/data/cora}
OUT=${OUT:-$root/benchmarks/out/locality}
PY=${PY:-/usr/bin/python3}
TRAIN_ARGS=${TRAIN_ARGS:---noise asymm --noise-ratio 0.3}
mkdir -p "$OUT"

run() { # print the command, run it, and on failure say which one
  echo "\$ $*" >&2
  local rc=0
  "$@" || rc=$?
  [ $rc -eq 0 ] || { echo "bench_locality: command failed with exit code $rc: $*" >&2; exit $rc; }
}
mpi() { if [ "$RANKS" -gt 1 ]; then run mpirun -n "$RANKS" --oversubscribe "$@"; else run "$@"; fi; }
echo "host: $(nproc) cores, loadavg $(cut -d' ' -f1-3 /proc/loadavg); nodes $NODES, ranks $RANKS," \
  "epochs $EPOCHS (first $SKIP dropped), rounds $ROUNDS, train args: $TRAIN_ARGS" >&2

#---- datasets ----------------------------------------------------------------------------------
rm -rf "$OUT/cora.h5" "$OUT/hsbm.h5" "$OUT/shuffled.h5" "$OUT"/*.partitions.h5 "$OUT/shuffled"
run "$BIN" import --dir "$CORA" --out "$OUT/cora.h5" > /dev/null
mpi "$BIN" generate --model hsbm --nodes "$NODES" --seed 3 --quiet --out "$OUT/hsbm.h5" > /dev/null
run "$PY" "$root/benchmarks/shuffle_ids.py" "$OUT/hsbm.h5" "$OUT/shuffled" 11 > /dev/null
mpi "$BIN" import --dir "$OUT/shuffled" --out "$OUT/shuffled.h5" > /dev/null
rm -rf "$OUT/shuffled"
sets="cora hsbm shuffled"
if [ "$RANKS" -gt 1 ]; then
  for d in $sets; do mpi "$BIN" partition --data "$OUT/$d.h5" --parts "$RANKS" > /dev/null; done
fi

#---- runs: none and rcm alternating --------------------------------------------------------------
for d in $sets; do
  for round in $(seq 1 "$ROUNDS"); do
    order="none rcm"; [ $((round % 2)) -eq 0 ] && order="rcm none"
    for r in $order; do
      rm -f "$OUT/$d.$r.$round.jsonl"
      # shellcheck disable=SC2086
      mpi "$BIN" train --data "$OUT/$d.h5" --epochs "$EPOCHS" --patience "$EPOCHS" --reorder "$r" \
        --quiet 1 --log-json "$OUT/$d.$r.$round.jsonl" $TRAIN_ARGS > /dev/null
    done
  done
done

#---- table ---------------------------------------------------------------------------------------
"$PY" - "$OUT" "$SKIP" "$ROUNDS" "$sets" <<'PY'
import json, statistics as st, sys
out, skip, rounds, sets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
phases = ("encoder_fwd", "encoder_bwd", "eval_fwd")
def runs(d, r):
    res = []
    for k in range(1, rounds + 1):
        lines = [json.loads(l) for l in open(f"{out}/{d}.{r}.{k}.jsonl")]
        eps = [o for o in lines if "phases" in o][skip:]
        med = {p: st.median(o["phases"][p] for o in eps) for p in phases}
        med["gat"] = sum(med[p] for p in phases)
        setup = [o for o in lines if "load" in o][0]
        med["order_s"] = setup["load"].get("order_s", 0.0)
        res.append(med)
    return res
cols = phases + ("gat",)
print("| dataset | order | " + " | ".join(f"{c} ms" for c in cols) + " | order_s |")
print("|---|---|" + "---:|" * (len(cols) + 1))
for d in sets:
    m = {}
    for r in ("none", "rcm"):
        rr = runs(d, r)
        m[r] = {c: st.median(x[c] for x in rr) for c in cols + ("order_s",)}
        print(f"| {d} | {r} | " + " | ".join(f"{1e3 * m[r][c]:.2f}" for c in cols) +
              f" | {m[r]['order_s']:.3f} |")
    print(f"| {d} | none/rcm | " + " | ".join(
        f"{m['none'][c] / m['rcm'][c]:.3f}" if m['rcm'][c] > 0 else "-" for c in cols) + " | |")
print(f"(medians over {rounds} rounds of each run's median epoch, first {skip} epochs dropped; "
      "gat = encoder_fwd + encoder_bwd + eval_fwd; times are the slowest rank's)")
PY
