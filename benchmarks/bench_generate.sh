#!/bin/bash
# bench_generate.sh: time `erase-mpi generate` (default 1M nodes, degree 10, 128 features, 2
# ranks), median wall time of 3 runs and peak RSS per rank (/usr/bin/time -v around each rank);
# prints one markdown table row. Deletes the generated files; does not check their content.
# usage: benchmarks/bench_generate.sh [NODES [RANKS [RUNS [MODEL]]]] (MODEL csbm or hsbm, default
# csbm; hsbm with its default tree)   env: ERASE_BIN, MPIEXEC, BENCH_DIR
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ERASE_BIN:-$here/build/erase-mpi}
MPIEXEC=${MPIEXEC:-mpirun}
N=${1:-1000000}
P=${2:-2}
RUNS=${3:-3}
MODEL=${4:-csbm}
D=10
F=128
. "$here/scripts/env.sh" # root, oversubscription, loopback, one BLAS thread, MTL probes skipped
[ -x "$BIN" ] || { echo "no erase-mpi at $BIN (build first or set ERASE_BIN)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
T=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/ergenbench.XXXXXX")
trap 'rm -rf "$T"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

for run in $(seq 1 "$RUNS"); do
  rm -f "$T/out.h5"
  t0=$(date +%s.%N)
  "$MPIEXEC" -n "$P" sh -c 'exec /usr/bin/time -v -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
    "$T/time.$run" "$BIN" generate --model "$MODEL" --nodes "$N" --avg-degree $D --features $F \
    --seed 1 --out "$T/out.h5" >"$T/log.$run"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l >>"$T/wall"
  sed -n 's/.*, \([0-9.]*\) s$/\1/p' "$T/log.$run" | tail -1 >>"$T/inner"
  for r in $(seq 0 $((P - 1))); do
    awk -F': ' '/Maximum resident set size/ {print $2 / 1024}' "$T/time.$run.$r" >>"$T/rss.$r"
    awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$T/time.$run.$r" >>"$T/cpu.$r"
  done
  edges=$(sed -n 's/.* nodes, \([0-9]*\) edges.*/\1/p' "$T/log.$run")
  size=$(du -m "$T/out.h5" | cut -f1)
done
cat "$T/log.1" >&2
wall=$(median <"$T/wall")
inner=$(median <"$T/inner")
rss=""
cpu=""
for r in $(seq 0 $((P - 1))); do
  rss="$rss$(median <"$T/rss.$r" | xargs printf '%.0f') / "
  cpu="$cpu$(median <"$T/cpu.$r" | xargs printf '%.1f') / "
done
echo "| model | ranks | nodes | avg degree | features | edges | file MB | wall s (median of $RUNS) | generate s (internal) | CPU s per rank (user+sys) | peak RSS per rank MB | load avg |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '| %s | %d | %d | %d | %d | %d | %d | %.2f | %.2f | %s | %s | %s |\n' "$MODEL" "$P" "$N" $D $F "$edges" \
  "$size" "$wall" "$inner" "${cpu% / }" "${rss% / }" "$(cut -d' ' -f1 /proc/loadavg)"
