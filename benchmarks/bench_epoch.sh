#!/usr/bin/env bash
# bench_epoch.sh [EPOCHS] [SKIP]: one ERASE epoch on Cora split into phases, ours at 1 and 2 MPI
# ranks beside the PyTorch twin (benchmarks/torch_twin.py time) at 1 and 2 threads, all in this
# one run; prints the commands, the load average, markdown tables of per-phase medians and
# minima (first SKIP epochs dropped) with ratios twin/ours, and the 1-core CPU time per epoch.
# It does not check correctness (tests/test_twin.sh does).
# Needs a built build/erase-mpi, ../shared/data/cora, /usr/bin/python3 with torch, h5py, sklearn.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env.sh"
EPOCHS=${1:-30}; SKIP=${2:-3}
BIN=${ERASE_BIN:-$root/build/erase-mpi}
CORA=${CORA:-$root/../shared/data/cora}
OUT=${OUT:-$root/benchmarks/out/epoch}
PY=${PY:-/usr/bin/python3}
mkdir -p "$OUT"
data="$OUT/cora.h5"
TRAIN_ARGS="--epochs $EPOCHS --patience $EPOCHS --noise asymm --noise-ratio 0.3 --quiet 1"

run() { # print the command, run it, and on failure say which one and how it ended
  echo "\$ $*" >&2
  local rc=0
  "$@" || rc=$?
  [ $rc -eq 0 ] || { echo "bench_epoch: command failed with exit code $rc: $*" >&2; exit $rc; }
}
cpu_s() { # cpu_s FILE CMD...: run CMD, write its user+sys CPU seconds (with children) to FILE
  "$PY" -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{r.ru_utime + r.ru_stime}\n")
sys.exit(rc)' "$@"
}
load() { echo "$(date +%T) loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2; cut -d' ' -f1 /proc/loadavg; }

echo "host: $(nproc) cores, $(uname -r); $("$PY" -c 'import torch; print("torch", torch.__version__)')" >&2
l0=$(load)
rm -f "$data"
run "$BIN" import --dir "$CORA" --out "$data" > /dev/null
run mpirun -n 2 "$BIN" partition --data "$data" --parts 2 > /dev/null
# 1 rank runs as an MPI singleton so that its CPU time can be taken; the SKIP-epoch run gives
# the CPU time of everything but the timed epochs (start-up, loading, denoising, first epochs)
run cpu_s "$OUT/ours1.cpu" "$BIN" train --data "$data" $TRAIN_ARGS --log-json "$OUT/ours1.jsonl" > "$OUT/ours1.out"
run cpu_s "$OUT/ours1_base.cpu" "$BIN" train --data "$data" ${TRAIN_ARGS/--epochs $EPOCHS/--epochs $SKIP} > /dev/null
l1=$(load)
run mpirun -n 2 "$BIN" train --data "$data" $TRAIN_ARGS --log-json "$OUT/ours2.jsonl" > "$OUT/ours2.out"
l2=$(load)
TWIN="$PY $root/benchmarks/torch_twin.py time --data $data --epochs $((EPOCHS - SKIP)) --warmup $SKIP --noise asymm --noise-ratio 0.3"
run $TWIN --threads 1 --json "$OUT/twin1.json" > /dev/null
l3=$(load)
run $TWIN --threads 2 --json "$OUT/twin2.json" > /dev/null
l4=$(load)

"$PY" - "$OUT" "$SKIP" "$l0 $l1 $l2 $l3 $l4" "$EPOCHS" <<'PY'
import json, sys
import numpy as np
out, skip, loads, epochs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def ours(p, stat):
    ep = [json.loads(l) for l in open(f"{out}/ours{p}.jsonl")]
    ep = [o for o in ep if "phases" in o][skip:]
    ph = {k: np.array([o["phases"][k] for o in ep]) for k in ep[0]["phases"]}
    ph["total"] = sum(ph[k] for k in list(ph))  # every phase of the epoch, slowest rank each
    ph["comm_all"] = np.array([o["comm_s"] for o in ep])
    return {k: float(stat(v)) for k, v in ph.items()}, len(ep)

def twin(t, key):
    j = json.load(open(f"{out}/twin{t}.json"))
    return j[key], j["epochs_timed"], j

rows = [("propagation (semantic labels)", "labels", "labels"),
        ("encoder forward", "encoder_fwd", "encoder_fwd"),
        ("loss (MCR2 fwd + dZ)", "loss", "loss"),
        ("encoder backward", "encoder_bwd", "encoder_bwd"),
        ("communication (grad Allreduce)", "grad_allreduce", None),
        ("Adam", "adam", "adam"),
        ("eval forward", "eval_fwd", "eval_fwd"),
        ("probe (L-BFGS logistic regression)", "probe", "probe"),
        ("**total epoch**", "total", "total")]

def ms(v): return f"{1e3 * v:.1f}"
def ratio(t, o): return f"{t / o:.1f}x" if o > 0 and t > 0 else "-"

def table(stat, key, what):
    o1, n1 = ours(1, stat); o2, n2 = ours(2, stat)
    t1, m1, j1 = twin(1, key); t2, m2, j2 = twin(2, key)
    print(f"\n{what} in ms over epochs {skip + 1}..{skip + n1} (ours) and {m1} timed epochs "
          f"after {skip} warm-up (twin); ratio = twin / ours.\n")
    print("| phase | ours 1 rank | twin 1 thread | ratio | ours 2 ranks | twin 2 threads | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, ko, kt in rows:
        a, b = o1[ko], o2[ko]
        c = t1[kt] if kt else 0.0
        d = t2[kt] if kt else 0.0
        print(f"| {name} | {ms(a)} | {ms(c) if kt else '-'} | {ratio(c, a) if kt else '-'} | "
              f"{ms(b)} | {ms(d) if kt else '-'} | {ratio(d, b) if kt else '-'} |")
    print(f"| (all MPI waits: halo, prototype and Gram Allreduces, inside the phases above) | "
          f"{ms(o1['comm_all'])} | - | - | {ms(o2['comm_all'])} | - | - |")
    print(f"\nTotal row: {what.lower()} of the per-epoch sums. Twin / ours per epoch at equal "
          f"cores (target >= 6): 1 core {t1['total'] / o1['total']:.1f}x, 2 cores "
          f"{t2['total'] / o2['total']:.1f}x.")
    return j1

print(f"\nCora, asymm noise 0.3, reference hyperparameters (hidden 256 = 8 heads x 32, d 512, "
      f"T 5). Load average (1 min) at the start and after each of the four runs: {loads} "
      f"(2 cores, shared with other jobs).")
def last_acc(p):
    ep = [json.loads(l) for l in open(f"{out}/ours{p}.jsonl")]
    e = [o for o in ep if "phases" in o][-1]
    return f"{e['train_acc']:.1f}/{e['val_acc']:.1f}/{e['test_acc']:.1f}"

def twin_acc(t):
    a = json.load(open(f"{out}/twin{t}.json"))["last_acc_train_val_test"]
    return "/".join(f"{100 * v:.1f}" for v in a)

print(f"Last-epoch probe accuracy train/val/test (%), a sanity check that both train the same "
      f"model (same noisy labels: the twin redraws our Philox noise; different initial weights "
      f"and dropout masks): ours {last_acc(1)} (1 rank), "
      f"{last_acc(2)} (2 ranks); twin {twin_acc(1)} (1 thread), {twin_acc(2)} (2 threads).")
j1 = table(np.median, "median_s", "Medians")
table(np.min, "min_s", "Minima (best epoch, least disturbed by other jobs)")
cpu = lambda f: float(open(f"{out}/{f}").read())
ours_cpu = (cpu("ours1.cpu") - cpu("ours1_base.cpu")) / (epochs - skip)
twin_cpu = json.load(open(f"{out}/twin1.json"))["cpu_median_s"]
print(f"\nCPU time (user+sys) per epoch at 1 core, which a busy machine inflates much less than "
      f"wall time: ours {ms(ours_cpu)} ms (mean over epochs {skip + 1}..{epochs}: CPU of the "
      f"{epochs}-epoch run minus the {skip}-epoch run), twin {ms(twin_cpu)} ms (median): "
      f"ratio {twin_cpu / ours_cpu:.1f}x.")
print(f"\nTwin: {j1['note']}; layer-1 input as {j1['x_format']} (the reference uses "
      f"dense x); glibc malloc tuned: {j1['malloc_tuned']}, OMP_WAIT_POLICY={j1['omp_wait_policy']}.")
PY
