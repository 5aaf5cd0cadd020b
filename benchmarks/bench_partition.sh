#!/bin/bash
# bench_partition.sh: wall time and peak memory per rank of `erase-mpi partition --method metis`
# for P = 2, 8, 64 on one dataset; median of REPS runs; prints markdown table rows. Rank 0
# CPU time is shown beside wall time because on a shared machine wall time mostly measures load.
# It adds /partitions/{2,8,64} to DATA.h5 (that is what partition does); it creates no other file.
#   usage: benchmarks/bench_partition.sh DATA.h5
#   env:   RANKS (2), REPS (3), PARTS ("2 8 64"), ERASE_BIN (build/erase-mpi), MPIEXEC (mpiexec)
set -euo pipefail
DATA=${1:?usage: bench_partition.sh DATA.h5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
ERASE_BIN=${ERASE_BIN:-$HERE/build/erase-mpi}
MPIEXEC=${MPIEXEC:-mpiexec}
RANKS=${RANKS:-2}
REPS=${REPS:-3}
PARTS=${PARTS:-2 8 64}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }
T=$(mktemp -d /tmp/er_bench_part.XXXXXX)
trap 'rm -rf "$T"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

N=$(h5ls "$DATA/graph/indptr" | sed -n 's/.*{\([0-9]*\)}.*/\1/p')
echo "dataset: $DATA (N+1=$N), ranks: $RANKS, median of $REPS runs, $(nproc) cores"
echo
echo "| P | edge cut | cut % | max/mean size | wall s | partition s (internal) | rank 0 CPU s | peak RSS rank 0 MiB | peak RSS other ranks MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for P in $PARTS; do
  : > "$T/wall"; : > "$T/inner"; : > "$T/cpu0"; : > "$T/rss0"; : > "$T/rssk"
  for rep in $(seq "$REPS"); do
    rm -f "$T"/time.*
    t0=$(date +%s.%N)
    "$MPIEXEC" -n "$RANKS" sh -c '/usr/bin/time -v -o "$0/time.$OMPI_COMM_WORLD_RANK" "$@"' "$T" \
      "$ERASE_BIN" partition --data "$DATA" --parts "$P" --method metis > "$T/out"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >> "$T/wall"
    sed -n 's/.* in \([0-9.]*\) s (read.*/\1/p' "$T/out" >> "$T/inner"
    grep 'Maximum resident' "$T/time.0" | awk '{print $NF / 1024}' >> "$T/rss0"
    awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$T/time.0" >> "$T/cpu0"
    for f in "$T"/time.*; do  # largest RSS among ranks 1..RANKS-1 (0 when RANKS = 1)
      [ "$f" = "$T/time.0" ] || grep 'Maximum resident' "$f"
    done | awk 'BEGIN {m = 0} {if ($NF / 1024 > m) m = $NF / 1024} END {print m}' >> "$T/rssk"
  done
  cut=$(sed -n 's/.*edge cut: \([0-9]*\) of.*(\(.*\)%).*/\1 \2/p' "$T/out")
  imb=$(sed -n 's/.*imbalance max\/mean \([0-9.]*\).*/\1/p' "$T/out")
  printf '| %s | %s | %s | %s | %.2f | %.2f | %.2f | %.0f | %.0f |\n' "$P" "${cut% *}" \
    "${cut#* }" "$imb" "$(median < "$T/wall")" "$(median < "$T/inner")" \
    "$(median < "$T/cpu0")" "$(median < "$T/rss0")" "$(median < "$T/rssk")"
done
