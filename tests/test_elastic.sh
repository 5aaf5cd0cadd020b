#!/usr/bin/env bash
# test_elastic.sh: a checkpoint written at P ranks resumes at P' != P (3 -> 2 and 3 -> 1 after
# lost nodes, 2 -> 4 and 2 -> 3 when more are granted) on Cora with label noise: the resumed
# run's first epoch equals the same checkpoint resumed at P within 1e-6 relative and every later
# epoch within 5e-4 (the rank-consistency tolerance of test_train_ranks.sh). Partitions: stored
# ones where the dataset has them (2, 3), else the one train makes with PT-Scotch and stores (4);
# a PT-Scotch failure in that on-the-fly partition is one error line and stores nothing.
set -uo pipefail
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
CORA=${ER_CORA_DIR:-}
[ -r "$CORA/graph.edges" ] || { echo "SKIP: no Cora at '$CORA'"; exit 77; }
T=$(mktemp -d /tmp/er_elastic.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail=0
"$ERASE_BIN" import --dir "$CORA" --out data.h5 >/dev/null || { echo "import failed"; exit 1; }
for p in 2 3; do
  "$MPIEXEC" -n $p "$ERASE_BIN" partition --data data.h5 --parts $p >/dev/null ||
    { echo "partition $p failed"; exit 1; }
done
RUN=(train --data data.h5 --noise asymm --noise-ratio 0.3 --hidden 32 --heads 4 --embed 64
     --quiet 1)
close() { /usr/bin/python3 - "$@" <<'PY'
import json, sys
def read(p):
    return {(o["run"], o["epoch"]): o["loss"] for o in map(json.loads, open(p)) if "epoch" in o}
a, b = read(sys.argv[1]), read(sys.argv[2])
keys = sorted(a.keys() & b.keys())
if not keys: sys.exit("no common epochs")
rel = [abs(a[k] - b[k]) / max(abs(b[k]), 1e-30) for k in keys]
print(f"epochs {keys[0][1]}-{keys[-1][1]}: first {rel[0]:.1e}, worst {max(rel):.1e}")
sys.exit(0 if rel[0] <= 1e-6 and max(rel) <= 5e-4 else 1)
PY
}
# case FROM TO...: checkpoint at FROM ranks after 4 epochs, resumed to 10 at FROM and each TO
case_from() {
  local from=$1 to
  shift
  "$MPIEXEC" -n "$from" "$ERASE_BIN" "${RUN[@]}" --epochs 4 --checkpoint ck$from.h5 --checkpoint-every 4 \
    >/dev/null 2>&1 || { echo "FAIL: the $from-rank run to epoch 4 failed"; fail=1; return; }
  for to in "$from" "$@"; do
    cp ck$from.h5 r.h5
    "$MPIEXEC" -n "$to" "$ERASE_BIN" "${RUN[@]}" --epochs 10 --resume r.h5 \
      --log-json $from-$to.jsonl >$from-$to.txt 2>&1 ||
      { echo "FAIL $from -> $to: $(tail -1 $from-$to.txt)"; fail=1; continue; }
    grep -q "resumed from r.h5: run 0, epoch 4" $from-$to.txt ||
      { echo "FAIL $from -> $to: no resume line"; fail=1; continue; }
    [ "$to" = "$from" ] && continue
    local part c
    part=$(sed -n 's/.*(partition \([^)]*\)).*/\1/p' $from-$to.txt | head -1)
    if c=$(close $from-$to.jsonl $from-$from.jsonl); then
      echo "ok   $from -> $to ranks (partition $part): $c"
    else
      echo "FAIL $from -> $to ranks (partition $part): $c"
      fail=1
    fi
  done
}
case_from 3 2 1
case_from 2 4 3

# the partition train makes on the fly can fail like any step: a PT-Scotch call failing on rank 1
# ends the run with one error line, every rank non-zero, and no partition stored
cp data.h5 fresh.h5
ERASE_FAULT=lib:1:1 "$MPIEXEC" -n 3 "$ERASE_BIN" "${RUN[@]}" --data fresh.h5 --epochs 1 \
  >fault.txt 2>&1 && { echo "FAIL on-the-fly partition fault: the run succeeded"; fail=1; }
n=$(grep -c '^erase-mpi: error:' fault.txt)
if [ "$n" = 1 ] && [ ! -e fresh.partitions.h5 ]; then
  echo "ok   on-the-fly partition fault: $(grep '^erase-mpi: error:' fault.txt)"
else
  echo "FAIL on-the-fly partition fault: $n error lines, sidecar: $(ls fresh.partitions.h5* 2>&1)"
  fail=1
fi
[ $fail = 0 ] && echo "test_elastic: PASS" || echo "test_elastic: FAIL"
exit $fail
