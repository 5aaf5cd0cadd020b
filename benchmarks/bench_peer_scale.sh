#!/usr/bin/env bash
# bench_peer_scale.sh: ERASE-MPI beside the PyTorch twin (benchmarks/torch_twin.py time) on
# generated graphs of growing size, at 1 and 2 cores (ours: 1 and 2 MPI ranks; the twin: 1 and 2
# threads), all in one run, each size's four runs back to back. Per run: the epoch's phases
# (medians over the timed epochs: ours from the JSON log, the twin from its JSON) and the peak
# memory of the node (the sum of every rank's peak RSS for ours, the twin's peak RSS), from
# GNU time. The twin runs under a virtual-memory limit (TWIN_LIMIT_GB) so that a size it cannot
# hold ends with an error instead of the kernel's OOM killer; such a run is reported as
# "out of memory" with the peak it reached. Prints markdown tables; writes nothing else than
# OUT (the graphs are kept there for the next run).
#   usage: benchmarks/bench_peer_scale.sh
#   env:   SIZES ("100000 300000 1000000"), EPOCHS (5: timed epochs of ours, after SKIP),
#          SKIP (1), TWIN_EPOCHS (3 timed, after 1 warm-up), TWIN_SIZES (the sizes the twin
#          runs at; default SIZES), TWIN_LIMIT_GB (22), CORES ("1 2"), OUT
#          (/var/tmp/erase_peer), ERASE_BIN (build/erase-mpi), PY (/usr/bin/python3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env.sh"
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
SIZES=${SIZES:-100000 300000 1000000}
TWIN_SIZES=${TWIN_SIZES:-$SIZES}
EPOCHS=${EPOCHS:-5}; SKIP=${SKIP:-1}; TWIN_EPOCHS=${TWIN_EPOCHS:-3}
TWIN_LIMIT_GB=${TWIN_LIMIT_GB:-22}
CORES=${CORES:-1 2}
OUT=${OUT:-/var/tmp/erase_peer}
BIN=${ERASE_BIN:-$root/build/erase-mpi}
PY=${PY:-/usr/bin/python3}
[ -x "$BIN" ] || { echo "bench_peer_scale: no $BIN (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_peer_scale: needs GNU time (/usr/bin/time)" >&2; exit 1; }
mkdir -p "$OUT"
TRAIN="--epochs $((EPOCHS + SKIP)) --patience $((EPOCHS + SKIP)) --noise asymm --noise-ratio 0.3 --quiet 1"
echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "$("$PY" -c 'import torch; print("torch", torch.__version__)'); binary $(git -C "$root" rev-parse --short HEAD)" >&2
load() { echo "$(date +%T) loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2; }

for n in $SIZES; do
  data=$OUT/g$n.h5
  if [ ! -s "$data" ]; then
    load; echo "\$ mpirun -n 2 $BIN generate --nodes $n --seed 1 --out $data" >&2
    mpirun -n 2 "$BIN" generate --nodes "$n" --seed 1 --out "$data" --quiet >/dev/null
    mpirun -n 2 "$BIN" partition --data "$data" --parts 2 --quiet >/dev/null
  fi
  for c in $CORES; do
    load
    echo "\$ mpirun -n $c $BIN train --data $data $TRAIN --log-json $OUT/ours_${n}_$c.jsonl" >&2
    rm -f "$OUT/ours_${n}_$c.time."*
    mpirun -n "$c" sh -c '/usr/bin/time -f "%M %e" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
      "$OUT/ours_${n}_$c.time" "$BIN" train --data "$data" $TRAIN \
      --log-json "$OUT/ours_${n}_$c.jsonl" >/dev/null
    case " $TWIN_SIZES " in *" $n "*) ;; *) continue ;; esac
    load
    echo "\$ $PY torch_twin.py time --data $data --threads $c --epochs $TWIN_EPOCHS --warmup 1" >&2
    rm -f "$OUT/twin_${n}_$c.json"
    (ulimit -v $((TWIN_LIMIT_GB * 1024 * 1024))
     /usr/bin/time -f "%M %e" -o "$OUT/twin_${n}_$c.time" "$PY" "$root/benchmarks/torch_twin.py" \
       time --data "$data" --threads "$c" --epochs "$TWIN_EPOCHS" --warmup 1 --noise asymm \
       --noise-ratio 0.3 --json "$OUT/twin_${n}_$c.json" >/dev/null 2>"$OUT/twin_${n}_$c.err") ||
      echo "bench_peer_scale: twin at $n nodes, $c threads failed: $(tail -1 "$OUT/twin_${n}_$c.err")" >&2
  done
done
load

"$PY" - "$OUT" "$SKIP" "$SIZES" "$CORES" <<'PY'
import glob, json, os, sys
import numpy as np
out, skip, sizes, cores = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
phases = ["encoder_fwd", "labels", "loss", "encoder_bwd", "adam", "eval_fwd", "probe"]

def ours(n, c):
    ep = [json.loads(l) for l in open(f"{out}/ours_{n}_{c}.jsonl")]
    ep = [o for o in ep if "phases" in o][skip:]
    ph = {k: float(np.median([o["phases"].get(k, 0.0) for o in ep])) for k in phases}
    ph["total"] = float(np.median([sum(o["phases"].values()) for o in ep]))
    rss = sum(int(open(f).read().split()[0]) for f in glob.glob(f"{out}/ours_{n}_{c}.time.*"))
    return ph, rss / 1024.0, len(ep)

def twin(n, c):
    t = f"{out}/twin_{n}_{c}.time"
    if not os.path.exists(t):
        return None, None, "not run"
    words = open(t).read().split()
    rss = next((int(w) for w in reversed(words) if w.isdigit()), 0) / 1024.0
    j = f"{out}/twin_{n}_{c}.json"
    if not os.path.exists(j):
        err = open(f"{out}/twin_{n}_{c}.err").read().strip().splitlines()
        why = "out of memory" if any("memory" in l.lower() for l in err[-3:]) else "failed"
        return None, rss, why
    return json.load(open(j))["median_s"], rss, "ok"

print("\n| nodes | cores | ours epoch (s) | twin epoch (s) | twin / ours | ours node peak (MiB) "
      "| twin peak (MiB) | memory twin / ours |")
print("|---|---|---|---|---|---|---|---|")
for n in sizes:
    for c in cores:
        o, orss, m = ours(n, c)
        t, trss, st = twin(n, c)
        if t:
            print(f"| {int(n):,} | {c} | {o['total']:.2f} | {t['total']:.2f} | "
                  f"{t['total'] / o['total']:.1f}x | {orss:.0f} | {trss:.0f} | {trss / orss:.1f}x |")
        else:
            tr = f"{trss:.0f} ({st})" if trss else st
            print(f"| {int(n):,} | {c} | {o['total']:.2f} | {st} | - | {orss:.0f} | {tr} | - |")
print("\nPer phase (s, medians; ours: the slowest rank per phase):\n")
print("| nodes | cores | " + " | ".join(f"{p} ours / twin" for p in phases) + " |")
print("|---|---|" + "---|" * len(phases))
for n in sizes:
    for c in cores:
        o, _, _ = ours(n, c)
        t, _, _ = twin(n, c)
        cells = [f"{o[p]:.3f} / {t[p]:.3f}" if t else f"{o[p]:.3f} / -" for p in phases]
        print(f"| {int(n):,} | {c} | " + " | ".join(cells) + " |")
PY
