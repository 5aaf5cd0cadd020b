#!/bin/bash
# bench_partition.sh: what each partitioning method costs and buys on one dataset. For every P
# in PARTS it runs every method of METHODS back to back (the methods side by side, so a load
# change on the shared machine hits them alike) and prints one markdown row each: ghosts (total
# and the largest part's), edge cut, part-size and work imbalance (work = rows + CSR entries +
# ghosts, max over the mean), the partitioner's own time, the wall time of the whole command and
# each rank's peak RSS (GNU time under mpirun); times and RSS are medians of REPS runs, the
# methods alternating within each repetition. With TRAIN_EPOCHS > 0 it then trains on every
# method's P=RANKS partition, methods back to back TRAIN_REPS times, and prints the epoch time
# and the halo waits per phase from the JSON log (median over the epochs after the first).
#   usage: benchmarks/bench_partition.sh DATA.h5
#   env:   RANKS (2), REPS (1), PARTS ("2 4 8 16 32 64"; "" for training only), METHODS ("metis-cut metis-vol metis-degree
#          ptscotch"; also ptscotch-degree, block, and metis-nN / ptscotch-nN for --ncuts N),
#          SEED (1), TRAIN_EPOCHS (0), TRAIN_REPS (1), TRAIN_ARGS ("--feature-norm none"),
#          WORK (a new directory under /tmp), ERASE_BIN (build/erase-mpi), MPIEXEC (mpiexec)
# DATA.h5 is never modified: method M partitions WORK/M.h5, a symbolic link to it, so its
# partitions land in WORK/M.partitions.h5, where the training runs find them. WORK is kept.
set -euo pipefail
DATA=$(realpath "${1:?usage: bench_partition.sh DATA.h5}")
HERE=$(cd "$(dirname "$0")/.." && pwd)
ERASE_BIN=${ERASE_BIN:-$HERE/build/erase-mpi}
MPIEXEC=${MPIEXEC:-mpiexec}
RANKS=${RANKS:-2}
PARTS=${PARTS-2 4 8 16 32 64}
METHODS=${METHODS:-metis-cut metis-vol metis-degree ptscotch}
SEED=${SEED:-1}
REPS=${REPS:-1}
TRAIN_EPOCHS=${TRAIN_EPOCHS:-0}
TRAIN_REPS=${TRAIN_REPS:-1}
TRAIN_ARGS=${TRAIN_ARGS:---feature-norm none}
WORK=${WORK:-$(mktemp -d /tmp/er_bench_part.XXXXXX)}
. "$HERE/scripts/env.sh" # root, oversubscription, loopback, yield, one BLAS thread, MTLs
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }
mkdir -p "$WORK"

method_args() {
  case $1 in
  metis-cut) echo --method metis --objective cut ;;
  metis-vol) echo --method metis --objective vol ;;
  metis-degree) echo --method metis --weights degree ;;
  ptscotch) echo --method ptscotch ;;
  ptscotch-degree) echo --method ptscotch --weights degree ;;
  block) echo --method block ;;
  metis-n[0-9]*) echo --method metis --ncuts "${1#metis-n}" ;;
  ptscotch-n[0-9]*) echo --method ptscotch --ncuts "${1#ptscotch-n}" ;;
  *) echo "unknown method $1" >&2; exit 1 ;;
  esac
}
for m in $METHODS; do ln -sfn "$DATA" "$WORK/$m.h5"; done

# peak RSS (MiB) of rank R from its GNU time report, or of the largest other rank (R = other)
rss() {
  if [ "$1" = 0 ]; then awk '/Maximum resident/ {printf "%.0f", $NF / 1024}' "$WORK/time.0"
  else
    for f in "$WORK"/time.*; do [ "$f" = "$WORK/time.0" ] || grep 'Maximum resident' "$f"; done |
      awk 'BEGIN {m = 0} {if ($NF / 1024 > m) m = $NF / 1024} END {printf "%.0f", m}'
  fi
}

echo "dataset: $DATA, $RANKS ranks, $(nproc) cores, seed $SEED, work directory $WORK," \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| P | method | ghosts total | ghosts max/part | edge cut | size max/mean | work max/mean | partition s | wall s | peak RSS rank 0 MiB | peak RSS other ranks MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for P in $PARTS; do
  for m in $METHODS; do : > "$WORK/meas.$m"; done
  for rep in $(seq "$REPS"); do
    for m in $METHODS; do # the methods alternate within each repetition
      rm -f "$WORK"/time.*
      t0=$(date +%s.%N)
      # shellcheck disable=SC2016,SC2046
      "$MPIEXEC" -n "$RANKS" sh -c '/usr/bin/time -v -o "$0/time.$OMPI_COMM_WORLD_RANK" "$@"' \
        "$WORK" "$ERASE_BIN" partition --data "$WORK/$m.h5" --parts "$P" --seed "$SEED" \
        $(method_args "$m") > "$WORK/part.$m.$P.out"
      t1=$(date +%s.%N)
      tpart=$(sed -n 's/.* partition \([0-9.]*\) s, measure.*/\1/p' "$WORK/part.$m.$P.out")
      echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') $tpart $(rss 0) $(rss other)" \
        >> "$WORK/meas.$m"
    done
  done
  for m in $METHODS; do
    o=$WORK/part.$m.$P.out # the last repetition's (the partition does not vary with the run)
    cut=$(sed -n 's/.*edge cut: \([0-9]*\) of.*/\1/p' "$o")
    size=$(sed -n 's/.*part size:.*imbalance max\/mean \([0-9.]*\).*/\1/p' "$o")
    gtot=$(sed -n 's/.*ghosts: total \([0-9]*\),.*/\1/p' "$o")
    gmax=$(sed -n 's/.*ghosts: total.*, max \([0-9]*\),.*/\1/p' "$o")
    work=$(sed -n 's/.*work (rows.*imbalance max\/mean \([0-9.]*\).*/\1/p' "$o")
    col() { awk -v c="$1" '{print $c}' "$WORK/meas.$m" | median; }
    printf '| %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.0f | %.0f |\n' "$P" "$m" \
      "$gtot" "$gmax" "$cut" "$size" "$work" "$(col 2)" "$(col 1)" "$(col 3)" "$(col 4)"
  done
done
echo
echo "medians of $REPS runs; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

[ "$TRAIN_EPOCHS" -gt 0 ] || exit 0
echo
echo "training: $RANKS ranks, $TRAIN_EPOCHS epochs, $TRAIN_ARGS, on each method's /partitions/$RANKS"
for rep in $(seq "$TRAIN_REPS"); do
  for m in $METHODS; do
    # shellcheck disable=SC2086
    "$MPIEXEC" -n "$RANKS" "$ERASE_BIN" train --data "$WORK/$m.h5" --partition "$RANKS" \
      --epochs "$TRAIN_EPOCHS" $TRAIN_ARGS --log-json "$WORK/train.$m.$rep.jsonl" \
      > "$WORK/train.$m.$rep.out"
  done
done
# shellcheck disable=SC2086
/usr/bin/python3 - "$WORK" "$TRAIN_REPS" $METHODS <<'EOF'
import json, statistics, sys
work, reps, methods = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
epochs = {}  # method -> the per-epoch log lines after each run's first epoch
for m in methods:
    epochs[m] = []
    for r in range(1, reps + 1):
        lines = [json.loads(l) for l in open(f"{work}/train.{m}.{r}.jsonl")]
        epochs[m] += [l for l in lines if "phases" in l and l["epoch"] > 1]
phases = []
for ep in epochs.values():
    for e in ep:
        phases += [k for k in e["halo_wait"] if k not in phases]
print()
print("| method | epochs | epoch s (sum of phases) | comm s | halo wait s | "
      + " | ".join(f"wait {k} s" for k in phases) + " |")
print("|---|---|---|---|---|" + "---|" * len(phases))
for m in methods:
    ep = epochs[m]
    mean = lambda f: statistics.median(f(e) for e in ep)
    cols = [mean(lambda e: sum(e["phases"].values())), mean(lambda e: e["comm_s"]),
            mean(lambda e: sum(e["halo_wait"].values()))]
    cols += [mean(lambda e, k=k: e["halo_wait"].get(k, 0.0)) for k in phases]
    print(f"| {m} | {len(ep)} | " + " | ".join(f"{x:.2f}" for x in cols) + " |")
EOF
