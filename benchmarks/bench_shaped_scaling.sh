#!/usr/bin/env bash
# bench_shaped_scaling.sh [NODES_IN_GRAPH]: a strong- or weak-scaling study across 1, 2 and 3
# cluster nodes (one rank per node; scripts/cluster-up.sh) with the links unshaped and shaped as
# each entry of LINKS, RATE or RATE/DELAY (e.g. "10gbit/20us 1gbit/200us": LINK_RATE and
# LINK_DELAY of cluster-up.sh; with a delay the links are its user-space switch), measured,
# beside the prediction of benchmarks/project_scaling.py --measured.
# Strong: one generated graph of NODES_IN_GRAPH nodes; weak (MODE=weak): a graph of
# N_PER_NODE x n nodes at n nodes. For every link setting and node count it trains the graph
# (METIS partition for the node count) twice, for E1 and E2 epochs, and takes per epoch the
# difference / (E2 - E1) (setup, load and output cancel) of the bytes each node's link sent and
# received (/sys/class/net/eth0 statistics); the epoch time is the median of the E2 run's epochs
# after the first (slowest rank per phase, JSON log), with its halo waits. On the unshaped links
# it also counts the MPI calls per epoch (benchmarks/mpi_calls.c, LD_PRELOAD; E1 and E2 epochs
# again) for the prediction's latency terms, and on every link setting it times an MPI
# ping-pong between n1 and n2 (benchmarks/mpi_volume.c pingpong: 8 B and 1 MiB, 3 times each)
# for the prediction from the link as measured.
# With JOBS=1 the same study also goes through jobs/submit_scaling.sh on the cluster at every
# link setting (train.sbatch jobs, one per node count, and the collector's scaling.csv and
# scaling.png in WORK/jobs-LABEL, LABEL = the entry with / as -), waited for, and its epochs are
# listed beside the direct runs'.
# Prints markdown tables (project_scaling.py --measured). As root; needs Slurm, munge, `ip netns`, tc, mpicc
# (tests/test_cluster_smoke.sh).
#   LINKS="10gbit/20us 1gbit/200us" REPS=2 benchmarks/bench_shaped_scaling.sh 50000
#   MODE=weak N_PER_NODE=25000 JOBS=1 benchmarks/bench_shaped_scaling.sh
#   env: MODE (strong), N_PER_NODE (25000), LINKS ("10gbit 1gbit"; RATES is read too),
#        NODECOUNTS ("1 2 3"), E1 (2), E2 (7), REPS (1: runs per cell, the medians taken),
#        JOBS (0), GEN_ARGS (""), WORK (/var/tmp/er-shaped[-weak]: the graphs are kept there),
#        ERASE_BIN (build/erase-mpi)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
scripts=$root/scripts
N=${1:-50000}
MODE=${MODE:-strong}
N_PER_NODE=${N_PER_NODE:-25000}
REPS=${REPS:-1}
JOBS=${JOBS:-0}
case $MODE in strong | weak) ;; *) echo "MODE must be strong or weak" >&2; exit 2 ;; esac
LINKS=${LINKS:-${RATES:-10gbit 1gbit}}
NODECOUNTS=${NODECOUNTS:-1 2 3}
E1=${E1:-2}; E2=${E2:-7}
WORK=${WORK:-/var/tmp/er-shaped$([ "$MODE" = strong ] || echo -weak)}
BIN=$(realpath "${ERASE_BIN:-$root/build/erase-mpi}")
export ERASE_BIN=$BIN # the jobs (JOBS=1) take it from the environment
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
dir=$WORK/cluster
trap '"$scripts/cluster-down.sh" "$dir" >/dev/null 2>&1 || true' EXIT
cd "$WORK"
WIDTHS=(--hidden 64 --heads 4 --embed 128)
MODEL=("${WIDTHS[@]}" --solver lapack --feature-norm none --quiet 1)
maxn=0; for n in $NODECOUNTS; do [ "$n" -gt "$maxn" ] && maxn=$n; done
graph() { [ "$MODE" = strong ] && echo g.h5 || echo "g$1.h5"; } # the graph at n nodes
for n in $NODECOUNTS; do
  g=$(graph "$n")
  [ ! -s "$g" ] || continue
  source "$scripts/env.sh"
  nn=$([ "$MODE" = strong ] && echo "$N" || echo $((N_PER_NODE * n)))
  mpirun -n 2 "$BIN" generate --nodes "$nn" --classes 8 --features 128 ${GEN_ARGS:-} \
    --out "$g" --quiet >/dev/null
  for m in $NODECOUNTS; do
    [ "$m" -eq 1 ] || { [ "$MODE" = weak ] && [ "$m" -ne "$n" ]; } ||
      mpirun -n 2 "$BIN" partition --data "$g" --parts "$m" --quiet >/dev/null
  done
done
bytes() { # bytes NODES: "tx rx" of each node's eth0, one line per node
  local i
  for ((i = 1; i <= $1; i++)); do
    ip netns exec "$prefix-n$i" sh -c \
      'echo $(cat /sys/class/net/eth0/statistics/tx_bytes) $(cat /sys/class/net/eth0/statistics/rx_bytes)'
  done
}
mpicc -O2 -shared -fPIC -o "$WORK/libmpicalls.so" "$here/mpi_calls.c"
mpicc -O2 -o "$WORK/mpi_volume" "$here/mpi_volume.c"
for spec in none $LINKS; do
  rate=${spec//\//-} # the label of this link setting, in file names
  if [ "$spec" = none ]; then
    "$scripts/cluster-up.sh" "$dir" "$maxn" >/dev/null
  else
    LINK_RATE=${spec%%/*} LINK_DELAY=$([[ $spec != */* ]] || echo "${spec#*/}") \
      "$scripts/cluster-up.sh" "$dir" "$maxn" >/dev/null
  fi
  prefix=$(sed -n 's/^prefix=//p' "$dir/cluster.conf")
  if [ "$maxn" -ge 2 ]; then # the link as MPI sees it: n1 <-> n2, 8 B and 1 MiB, 3 times each
    for k in 1 2 3; do
      for m in "8 200" "1048576 20"; do
        # shellcheck disable=SC2086 # two words: bytes, repetitions
        "$scripts/cluster-exec.sh" "$dir" n1 srun -N 2 -n 2 --mpi=pmix "$WORK/mpi_volume" \
          pingpong $m
      done
    done >"link_$rate"
  fi
  for n in $NODECOUNTS; do
    [ "$rate" = none ] || [ "$n" -gt 1 ] || continue # one node: no link in use
    for ((rep = 1; rep <= REPS; rep++)); do
      for E in $E1 $E2; do
        bytes "$n" >"b0"
        echo "$(date +%T) rate $rate, $n node(s), $E epochs, run $rep (load" \
          "$(cut -d' ' -f1 /proc/loadavg))" >&2
        "$scripts/cluster-exec.sh" "$dir" n1 srun -N "$n" -n "$n" --mpi=pmix "$BIN" train \
          --data "$(graph "$n")" --epochs "$E" --patience "$E" "${MODEL[@]}" \
          --log-json "r_${rate}_${n}_${E}_$rep.jsonl" >/dev/null
        bytes "$n" >"b1"
        paste b0 b1 | awk '{ print $3 - $1, $4 - $2 }' >"bytes_${rate}_${n}_${E}_$rep"
      done
    done
    if [ "$rate" = none ] && [ "$n" -gt 1 ]; then # MPI calls per epoch, for the latency terms
      for E in $E1 $E2; do
        "$scripts/cluster-exec.sh" "$dir" n1 srun -N "$n" -n "$n" --mpi=pmix env \
          LD_PRELOAD="$WORK/libmpicalls.so" MPI_CALLS_OUT="$WORK/calls_${n}_$E" "$BIN" train \
          --data "$(graph "$n")" --epochs "$E" --patience "$E" "${MODEL[@]}" >/dev/null
      done
    fi
  done
  if [ "$JOBS" = 1 ]; then # the same study through the jobs (train.sbatch per node count)
    res=$WORK/jobs-$rate
    rm -rf "$res"
    mkdir -p "$res"
    for n in $NODECOUNTS; do ln -sf "$WORK/$(graph "$n")" "$res/data-$n.h5"; done
    [ "$MODE" = weak ] || ln -sf "$WORK/g.partitions.h5" "$res/data-1.partitions.h5"
    for n in $NODECOUNTS; do
      [ "$MODE" = strong ] || ln -sf "$WORK/g$n.partitions.h5" "$res/data-$n.partitions.h5"
    done
    # shellcheck disable=SC2016
    "$scripts/cluster-exec.sh" "$dir" n1 env MODE="$MODE" RANKS="$NODECOUNTS" TASKS_PER_NODE=1 \
      DATA="$([ "$MODE" = strong ] && echo "$WORK/g.h5")" NODES_PER_RANK="$N_PER_NODE" \
      EPOCHS="$E2" TRAIN_ARGS="${MODEL[*]}" RESULTS="$res" "$root/jobs/submit_scaling.sh" \
      >"$res/submit.out"
    for ((t = 0; t < 600; t++)); do # wait for the study's jobs (at most 10 minutes)
      [ -z "$("$scripts/cluster-exec.sh" "$dir" n1 squeue -h -o %i)" ] && break
      sleep 1
    done
    echo "$(date +%T) rate $rate: jobs study in $res ($(tail -1 "$res/collect.out" 2>/dev/null))" >&2
  fi
  "$scripts/cluster-down.sh" "$dir" >/dev/null
done

/usr/bin/python3 "$here/project_scaling.py" --measured "$WORK" --links "$LINKS" \
  --nodes "$NODECOUNTS" --epochs "$E1" "$E2"
