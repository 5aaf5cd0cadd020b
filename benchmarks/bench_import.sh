#!/usr/bin/env bash
# bench_import.sh: time `erase-mpi import` of Cora (median of 5 runs per rank count) and print
# markdown rows: rank-0 process wall (MPI start-up included), import time, peak RSS.
# Does not write RESULTS.md. usage: bench_import.sh [BUILD_DIR] (env: RANKS="1 2", RUNS=5)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/erase-mpi
cora=${ER_CORA_DIR:-$here/../shared/data/cora}
runs=${RUNS:-5}
ranks=${RANKS:-1 2}
mpiexec=${MPIEXEC:-mpiexec}
[ -x "$bin" ] || { echo "no $bin (build first)" >&2; exit 1; }
[ -r "$cora/graph.edges" ] || { echo "no Cora at $cora" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_tcp_if_include=lo
export OMPI_MCA_oob_tcp_if_include=lo OPENBLAS_NUM_THREADS=1
T=$(mktemp -d /tmp/er_bench_import_XXXXXX)
trap 'rm -rf "$T"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

rev=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
echo "| benchmark | ranks | rank-0 process wall (s) | import (s) | parse on rank 0 (s) | peak RSS rank 0 (MiB) | runs | rev |"
echo "|---|---|---|---|---|---|---|---|"
for np in $ranks; do
  : >"$T/wall"; : >"$T/own"; : >"$T/parse"; : >"$T/rss"
  for _ in $(seq "$runs"); do
    rm -f "$T/cora.h5" "$T"/time.*
    TDIR=$T "$mpiexec" -n "$np" sh -c \
      '/usr/bin/time -v -o "$TDIR/time.$OMPI_COMM_WORLD_RANK" "$@"' sh \
      "$bin" import --dir "$cora" --out "$T/cora.h5" >"$T/log" 2>"$T/err" &&
      [ -s "$T/cora.h5" ] || { echo "import failed:" >&2; cat "$T/err" >&2; exit 1; }
    sed -n 's/.*parsed in \([0-9.]*\) s, total \([0-9.]*\) s.*/\1 \2/p' "$T/log" >"$T/t"
    awk '{print $1}' "$T/t" >>"$T/parse"
    awk '{print $2}' "$T/t" >>"$T/own"
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
                for (i = 1; i <= n; ++i) s = s * 60 + p[i]; print s}' "$T/time.0" >>"$T/wall"
    awk -F': ' '/Maximum resident set size/ {printf "%.1f\n", $2 / 1024}' "$T/time.0" >>"$T/rss"
  done
  printf '| import Cora (N=2708, F=1433) | %d | %.2f | %.3f | %.3f | %s | %d | %s |\n' "$np" \
    "$(median <"$T/wall")" "$(median <"$T/own")" "$(median <"$T/parse")" \
    "$(median <"$T/rss")" "$runs" "$rev"
done
