#!/usr/bin/env bash
# bench_import.sh: parallel `erase-mpi import` of a 1M-node text graph (gen_text_graph.c: an
# edge list, Matrix Market coordinate features, labels and splits, written once into DATA_DIR
# and kept). Imports at each of RANKS ranks side by side, alternating, ROUNDS rounds, each rank
# under /usr/bin/time -v (wall = the slowest rank's elapsed time, MPI start-up included; peak RSS
# per rank), with each rank's on-CPU and run-queue seconds from /proc/PID/schedstat (the run
# queue shows how much of the wall the machine's other load took); the start-up baseline
# (`erase-mpi import --help` under the same launcher) at each rank count; and checks that every
# rank count wrote the same file (every dataset's checksum as `info --verify` prints them).
# Prints markdown tables (medians over the rounds); does not write RESULTS.md.
# usage: bench_import.sh [BUILD_DIR]
# env: NODES=1000000 DEGREE=10 FEATURES=16 DENSITY=0.5 ROUNDS=3 RANKS="1 2 4"
#      DATA_DIR=/tmp/er_bench_import_data MPIEXEC=mpiexec
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/erase-mpi
nodes=${NODES:-1000000} degree=${DEGREE:-10} features=${FEATURES:-16} density=${DENSITY:-0.5}
rounds=${ROUNDS:-3} ranks=${RANKS:-1 2 4}
data=${DATA_DIR:-/tmp/er_bench_import_data}
mpiexec=${MPIEXEC:-mpiexec}
[ -x "$bin" ] || { echo "no $bin (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }
# root, oversubscription, loopback, one BLAS thread, MTL probes skipped; waiting ranks yield the
# CPU (as the tests and bitcheck run): on a shared machine a spinning rank takes the core its
# partner needs
. "$here/scripts/env.sh"
T=$(mktemp -d /tmp/er_bench_import_XXXXXX)
trap 'rm -rf "$T"' EXIT

#---- the graph (kept between runs: writing it takes longer than importing it) ----
g=$data/n${nodes}_d${degree}_f${features}_p${density}
if [ ! -s "$g/test.idx" ]; then
  mkdir -p "$g"
  cc -O2 -o "$T/gen" "$here/benchmarks/gen_text_graph.c"
  "$T/gen" "$g" "$nodes" "$degree" "$features" "$density" 10 1
fi
bytes=$(cat "$g"/* | wc -c)

#---- one rank: erase-mpi under /usr/bin/time -v, its schedstat sampled until it ends ----
cat >"$T/rank.sh" <<'EOF'
#!/bin/bash
d=$1 r=${OMPI_COMM_WORLD_RANK:-0}
shift
/usr/bin/time -v -o "$d/time.$r" "$@" >"$d/log.$r" 2>&1 &
tp=$!
ep=
for _ in $(seq 100); do ep=$(pgrep -P $tp | head -1); [ -n "$ep" ] && break; sleep 0.01; done
# builtins only (read, kill; read -t on a pipe nobody writes to as the sleep): a sampler that
# forks cat and sleep 20 times a second takes CPU from the ranks when they fill the cores
exec {idle}< <(exec sleep 3600)
sp=$!
last="0 0 0"
while kill -0 $tp 2>/dev/null; do
  read -r s 2>/dev/null </proc/$ep/schedstat && [ -n "$s" ] && last=$s
  read -r -t 0.05 -u $idle _ || :
done
kill $sp 2>/dev/null || :
wait $tp
echo "$last" >"$d/sched.$r"
EOF
chmod +x "$T/rank.sh"

# run P DIR ARGS...: P ranks of erase-mpi ARGS, results in DIR; prints
# "wall import cpu runqueue rss_max" (s, s, s, s, KiB; each the largest over the ranks)
run() {
  local np=$1 d=$2
  shift 2
  rm -rf "$d" && mkdir -p "$d"
  "$mpiexec" -n "$np" "$T/rank.sh" "$d" "$bin" "$@" ||
    { echo "failed: $*" >&2; cat "$d"/log.* >&2; exit 1; }
  local wall=0 cpu=0 rq=0 rss=0 imp
  for f in "$d"/time.*; do
    r=${f##*.}
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0
                    for (i = 1; i <= n; ++i) s = s * 60 + p[i]; print s}' "$f")
    m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$f")
    c=$(awk '{printf "%.3f", $1 / 1e9}' "$d/sched.$r")
    q=$(awk '{printf "%.3f", $2 / 1e9}' "$d/sched.$r")
    wall=$(awk -v a="$wall" -v b="$w" 'BEGIN {print (b > a ? b : a)}')
    cpu=$(awk -v a="$cpu" -v b="$c" 'BEGIN {print (b > a ? b : a)}')
    rq=$(awk -v a="$rq" -v b="$q" 'BEGIN {print (b > a ? b : a)}')
    rss=$((m > rss ? m : rss))
  done
  imp=$(sed -n 's/.*, total \([0-9.]*\) s$/\1/p' "$d/log.0")
  echo "$wall ${imp:-0} $cpu $rq $rss"
}
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
col() { awk -v c="$1" '{print $c}' "$2" | median; }

rev=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
echo "graph: $g ($nodes nodes, $(wc -l <"$g/graph.edges") edge lines, $(sed -n 2p "$g/features.mtx" |
  awk '{print $3}') feature entries, $((bytes / 1000000)) MB of text); rev $rev; $(nproc) cores,"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

#---- start-up baseline per rank count ----
for np in $ranks; do
  for i in 1 2 3; do run "$np" "$T/base$np.$i" import --help; done >"$T/base$np"
done

#---- every rank count, alternating ----
echo
echo "| round | ranks | wall (s) | import (s) | CPU busiest rank (s) | run-queue wait (s) | peak RSS/rank (MiB) |"
echo "|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  for np in $ranks; do
    # the previous round's output removed first, untimed: renaming over an existing file frees
    # its blocks inside the rename (0.07-0.3 s for this 150 MB file, the same at every rank
    # count), a cost of the old file and not of the import
    rm -f "$T/out$np.h5"
    res=$(run "$np" "$T/r$np.$r" import --dir "$g" --out "$T/out$np.h5")
    echo "$res" >>"$T/runs$np"
    read -r w i c q m <<<"$res"
    printf '| %d | %d | %.2f | %.2f | %.2f | %.2f | %.0f |\n' "$r" "$np" "$w" "$i" "$c" "$q" \
      "$(awk -v m="$m" 'BEGIN {print m / 1024}')"
  done
done
sums() { # the digest of every dataset, and info's graph/feature checksums
  "$bin" info "$1" | grep '^checksums'
  h5dump -A 0 -a /features/digest -a /labels/digest -a /graph/indptr/digest \
    -a /graph/indices/digest -a /split/train/digest -a /split/val/digest -a /split/test/digest \
    "$1" | grep -o '(0): -\?[0-9]*' | cut -c6- | tr '\n' ' '
  echo
}
first=${ranks%% *}
sums "$T/out$first.h5" >"$T/sums$first"
for np in $ranks; do
  "$bin" info --verify "$T/out$np.h5" >/dev/null || { echo "$np ranks: info --verify fails" >&2; exit 1; }
  sums "$T/out$np.h5" >"$T/sums$np"
  cmp -s "$T/sums$first" "$T/sums$np" || { echo "the $first- and $np-rank files differ" >&2; exit 1; }
done
echo
echo "the files of every rank count are the same: $(head -1 "$T/sums$first"); dataset digests $(sed -n 2p "$T/sums$first")"

#---- medians ----
w1=$(col 1 "$T/runs$first")
r1=$(( $(col 5 "$T/runs$first") - $(col 5 "$T/base$first") ))
echo
echo "| ranks | wall (s) | wall / 1 rank | import (s) | CPU busiest rank (s) | run-queue wait (s) | peak RSS/rank (MiB) | start-up RSS (MiB) | RSS - start-up (MiB) | / 1 rank | runs |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for np in $ranks; do
  f=$T/runs$np
  w=$(col 1 "$f") rss=$(col 5 "$f") base=$(col 5 "$T/base$np")
  printf '| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.2f | %d |\n' "$np" "$w" \
    "$(awk -v a="$w" -v b="$w1" 'BEGIN {print a / b}')" "$(col 2 "$f")" "$(col 3 "$f")" \
    "$(col 4 "$f")" "$(awk -v m="$rss" 'BEGIN {print m / 1024}')" \
    "$(awk -v m="$base" 'BEGIN {print m / 1024}')" \
    "$(awk -v m="$((rss - base))" 'BEGIN {print m / 1024}')" \
    "$(awk -v a="$((rss - base))" -v b="$r1" 'BEGIN {print a / b}')" "$(wc -l <"$f")"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
