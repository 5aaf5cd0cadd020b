#!/usr/bin/env bash
# bench_bf16.sh [--nodes N] [--ranks P] [--epochs E] [--rounds R] [--runs N] [--cora-epochs E]
#               [--skip-time] [--skip-accuracy]
# train --gather-precision bf16 against float. (a) Epoch time: a generated N-node graph
# (default 300000, METIS partition for P = 2 ranks) trained E epochs (default 6, the first
# dropped) float and bf16 alternating for R rounds (default 3); per run the median epoch from
# the JSON log (the training phases, and the encoder's forward + backward alone), then the
# median over rounds and the ratio bf16 / float. (b) Cora accuracy at the four reference noise
# settings (asymmetric 0.1/0.3/0.5, symmetric 0.3; bench_cora_accuracy.sh) over --runs runs
# (default 10) of --cora-epochs (default 400): mean and std of the best-validation test
# accuracy, float and bf16. Prints markdown tables; logs go to $OUT (benchmarks/out/bf16). It
# checks nothing (tests/test_train_bf16.sh does). Needs a built build/erase-mpi and, for (b),
# ../shared/data/cora.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env.sh"
NODES=300000; RANKS=2; EPOCHS=6; ROUNDS=3; RUNS=10; CORA_EPOCHS=400; TIME=1; ACC=1
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) NODES=$2; shift 2 ;;
    --ranks) RANKS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --cora-epochs) CORA_EPOCHS=$2; shift 2 ;;
    --skip-time) TIME=0; shift ;;
    --skip-accuracy) ACC=0; shift ;;
    *) echo "bench_bf16: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
BIN=${ERASE_BIN:-$root/build/erase-mpi}
CORA=${CORA:-$root/../shared/data/cora}
OUT=${OUT:-$root/benchmarks/out/bf16}
PY=${PY:-/usr/bin/python3}
mkdir -p "$OUT"
run() { # print the command, run it, say which one failed
  echo "\$ $*" >&2
  local rc=0
  "$@" || rc=$?
  [ $rc -eq 0 ] || { echo "bench_bf16: command failed with exit code $rc: $*" >&2; exit $rc; }
}
echo "host: $(nproc) cores, loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2

if [ $TIME = 1 ]; then
  g="$OUT/gen$NODES.h5"
  [ -f "$g" ] || run mpirun -n 2 "$BIN" generate --nodes "$NODES" --out "$g" > /dev/null
  [ "$RANKS" -eq 1 ] || run mpirun -n "$RANKS" "$BIN" partition --data "$g" --parts "$RANKS" > /dev/null
  for r in $(seq 1 "$ROUNDS"); do
    for p in float bf16; do
      run mpirun -n "$RANKS" "$BIN" train --data "$g" --epochs "$EPOCHS" --patience "$EPOCHS" \
        --gather-precision $p --quiet 1 --log-json "$OUT/time-$p-r$r.jsonl" > "$OUT/time-$p-r$r.out"
    done
  done
  "$PY" - "$OUT" "$ROUNDS" "$NODES" "$RANKS" "$EPOCHS" <<'PY'
import json, statistics as st, sys
out, rounds, nodes, ranks, epochs = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
TRAIN = ("encoder_fwd", "labels", "loss", "encoder_bwd", "grad_allreduce", "adam")
def run_medians(p, r):
    ep = [json.loads(l) for l in open(f"{out}/time-{p}-r{r}.jsonl")]
    ep = [o for o in ep if "phases" in o]
    ep = ep[1:] if len(ep) > 1 else ep  # the first epoch warms up
    train = st.median(sum(o["phases"][k] for k in TRAIN) for o in ep)
    enc = st.median(o["phases"]["encoder_fwd"] + o["phases"]["encoder_bwd"] for o in ep)
    return train, enc
res = {p: [run_medians(p, r) for r in range(1, rounds + 1)] for p in ("float", "bf16")}
print(f"\n### Epoch time: {nodes}-node generated graph, {ranks} ranks, {epochs} epochs "
      f"(first dropped), {rounds} rounds alternating\n")
print("| precision | training epoch s (median) | rounds | encoder fwd+bwd s (median) | rounds |")
print("|---|---|---|---|---|")
med = {}
for p in ("float", "bf16"):
    t = [x[0] for x in res[p]]; e = [x[1] for x in res[p]]
    med[p] = (st.median(t), st.median(e))
    print(f"| {p} | {med[p][0]:.3f} | {' '.join(f'{v:.3f}' for v in t)} | {med[p][1]:.3f} | "
          f"{' '.join(f'{v:.3f}' for v in e)} |")
print(f"| bf16 / float | {med['bf16'][0] / med['float'][0]:.3f} | | "
      f"{med['bf16'][1] / med['float'][1]:.3f} | |")
PY
fi

if [ $ACC = 1 ]; then
  data="$OUT/cora.h5"
  [ -f "$data" ] || run "$BIN" import --dir "$CORA" --out "$data" > /dev/null
  for cfg in "asymm 0.1" "asymm 0.3" "asymm 0.5" "symm 0.3"; do
    set -- $cfg
    for p in float bf16; do
      run "$BIN" train --data "$data" --noise "$1" --noise-ratio "$2" --runs "$RUNS" \
        --epochs "$CORA_EPOCHS" --gather-precision $p --quiet 1 \
        --log-json "$OUT/cora-$1-$2-$p.jsonl" > "$OUT/cora-$1-$2-$p.out"
    done
  done
  "$PY" - "$OUT" "$RUNS" "$CORA_EPOCHS" <<'PY'
import json, sys
out, runs, epochs = sys.argv[1:]
print(f"\n### Cora test accuracy (best validation epoch), {runs} runs of {epochs} epochs, 1 rank\n")
print("| noise | ratio | float mean | std | bf16 mean | std | bf16 - float |")
print("|---|---|---|---|---|---|---|")
for noise, ratio in (("asymm", "0.1"), ("asymm", "0.3"), ("asymm", "0.5"), ("symm", "0.3")):
    s = {}
    for p in ("float", "bf16"):
        last = [json.loads(l) for l in open(f"{out}/cora-{noise}-{ratio}-{p}.jsonl")][-1]
        s[p] = (last["test_mean"], last["test_std"])
    print(f"| {noise} | {ratio} | {s['float'][0]:.2f} | {s['float'][1]:.2f} | {s['bf16'][0]:.2f} | "
          f"{s['bf16'][1]:.2f} | {s['bf16'][0] - s['float'][0]:+.2f} |")
PY
fi
