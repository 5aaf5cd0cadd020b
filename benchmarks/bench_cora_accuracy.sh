#!/usr/bin/env bash
# bench_cora_accuracy.sh [RANKS] [RUNS] [EPOCHS]: ERASE on Cora (public split, reference
# hyperparameters) under asymmetric noise 0.1/0.3/0.5 and symmetric 0.3; prints a markdown table
# of the mean and std of best-validation test accuracy. Logs go to $OUT (default
# benchmarks/out/cora-accuracy). Needs ../shared/data/cora and a built build/erase-mpi.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env.sh"
RANKS=${1:-1}; RUNS=${2:-10}; EPOCHS=${3:-400}
BIN=${ERASE_BIN:-$root/build/erase-mpi}
CORA=${CORA:-$root/../shared/data/cora}
OUT=${OUT:-$root/benchmarks/out/cora-accuracy}
mkdir -p "$OUT"
data="$OUT/cora.h5"
[ -f "$data" ] || "$BIN" import --dir "$CORA" --out "$data" >/dev/null
if [ "$RANKS" -gt 1 ]; then mpirun -n "$RANKS" "$BIN" partition --data "$data" --parts "$RANKS" >/dev/null; fi
echo "| noise | ratio | ranks | runs | epochs | test acc mean | std | wall s |"
echo "|---|---|---|---|---|---|---|---|"
for cfg in "asymm 0.1" "asymm 0.3" "asymm 0.5" "symm 0.3"; do
  set -- $cfg
  log="$OUT/$1-$2-np$RANKS.jsonl"
  t0=$(date +%s.%N)
  mpirun -n "$RANKS" "$BIN" train --data "$data" --noise "$1" --noise-ratio "$2" \
    --runs "$RUNS" --epochs "$EPOCHS" --quiet 1 --log-json "$log" > "$OUT/$1-$2-np$RANKS.out"
  t1=$(date +%s.%N)
  /usr/bin/python3 - "$log" "$1" "$2" "$RANKS" "$RUNS" "$EPOCHS" "$t0" "$t1" <<'PY'
import json, sys
log, noise, ratio, ranks, runs, epochs, t0, t1 = sys.argv[1:]
last = [json.loads(l) for l in open(log)][-1]
print(f"| {noise} | {ratio} | {ranks} | {runs} | {epochs} | {last['test_mean']:.2f} | {last['test_std']:.2f} | {float(t1)-float(t0):.0f} |")
PY
done
