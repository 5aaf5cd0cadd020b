#!/usr/bin/env bash
# submit_scaling.sh: submit a strong- or weak-scaling study as dependent Slurm jobs: the graph(s)
# (prepare.sbatch), one train.sbatch job per rank count, then collect_scaling.py (CSV + PNG).
# It only calls sbatch: it waits for nothing and prints one line per job, the collector's last.
#
#   MODE=strong RANKS="1 2 4 8" NODES=200000 jobs/submit_scaling.sh    # one graph, 1..8 ranks
#   MODE=weak RANKS="1 2 4 8" NODES_PER_RANK=50000 jobs/submit_scaling.sh  # graph grows with P
#   MODE=strong DATA=data/big.h5 RANKS="16 32 64" TASKS_PER_NODE=16 \
#     SBATCH_ARGS="--partition=compute --exclusive" jobs/submit_scaling.sh
#
# Files in RESULTS: study.json (what was submitted), data*.h5 (generated graphs), and per rank
# count P: rP.out (job output), rP.log.json (per-epoch JSON log), rP.h5 (RUN.h5); at the end
# scaling.csv, scaling.png and collect.out. Files that exist are reused: submitting the same
# study again skips graphs and finished runs and resumes interrupted ones from their checkpoints.
set -euo pipefail

# ---- knobs: edit here or set in the environment ---------------------------------------------
MODE=${MODE:-strong}            # strong: one graph, P varies | weak: NODES_PER_RANK*P nodes at P
RANKS=${RANKS:-"1 2 4"}         # rank counts (MPI tasks) of the runs
RESULTS=${RESULTS:-scaling-$MODE} # results directory (created)
DATA=${DATA:-}                  # strong: dataset to use as is (partitions as stored; missing
                                # ones fall back to block); empty: generate RESULTS/data.h5
NODES=${NODES:-20000}           # strong: nodes of the generated graph
NODES_PER_RANK=${NODES_PER_RANK:-10000} # weak: nodes per rank
SEED=${SEED:-1}                 # graph generation seed
GEN_ARGS=${GEN_ARGS:-}          # more generate options, e.g. "--avg-degree 16"
PART_METHOD=${PART_METHOD:-metis} # metis | block
EPOCHS=${EPOCHS:-20}            # epochs per run; the collector skips the first 2 of each run
TRAIN_ARGS=${TRAIN_ARGS:-}      # more train options (train.sbatch EXTRA_ARGS), e.g. "--hidden 64"
TASKS_PER_NODE=${TASKS_PER_NODE:-} # set: a P-rank run gets ceil(P/T) nodes, T tasks each
SERIAL=${SERIAL:-1}             # 1: every job waits for the previous one (runs never share cores)
SBATCH_ARGS=${SBATCH_ARGS:-}    # more sbatch options for every job, e.g. "--account=x --exclusive"
TIME=${TIME:-01:00:00}          # time limit of each job
PYTHON=${PYTHON:-/usr/bin/python3} # python with h5py, numpy, matplotlib (for the collector)

jobs=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "submit_scaling: error: $*" >&2; exit 1; }
case $MODE in strong | weak) ;; *) die "MODE must be strong or weak, got '$MODE'" ;; esac
[ -n "${RANKS// /}" ] || die "RANKS is empty"
for v in $RANKS $EPOCHS $NODES $NODES_PER_RANK ${TASKS_PER_NODE:-1}; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || die "RANKS, EPOCHS, NODES, NODES_PER_RANK, TASKS_PER_NODE must be" \
    "positive integers, got '$v'"
done
command -v sbatch >/dev/null || die "sbatch not found (is Slurm set up? see jobs/README.md)"
mkdir -p "$RESULTS"
RESULTS=$(realpath "$RESULTS")
max=0
for p in $RANKS; do [ "$p" -le "$max" ] || max=$p; done

# submit NAME DEPENDENCY SBATCH_ARGS... : sbatch with the common options; prints the id. With
# SERIAL=1 the job also waits for the previously submitted one (afterany: whatever its end).
last=""
all=()
submit() {
  local name=$1 dep=$2 id
  shift 2
  if [ "$SERIAL" = 1 ] && [ -n "$last" ] && [[ ":$dep:" != *":$last:"* ]]; then
    dep=${dep:+$dep,}afterany:$last
  fi
  # shellcheck disable=SC2086 # SBATCH_ARGS is a list of options
  id=$(sbatch --parsable --job-name="$name" --time="$TIME" ${dep:+--dependency=$dep} \
    --kill-on-invalid-dep=yes $SBATCH_ARGS "$@") || die "sbatch failed for $name"
  id=${id%%;*}
  last=$id
  all+=("$id")
  echo "submitted $name: job $id${dep:+ (after $dep)}"
}

# layout P: sbatch options giving P tasks (spread over nodes when TASKS_PER_NODE is set)
layout() {
  if [ -n "$TASKS_PER_NODE" ]; then
    echo "--ntasks=$1 --nodes=$(((($1) + TASKS_PER_NODE - 1) / TASKS_PER_NODE))" \
      "--ntasks-per-node=$((TASKS_PER_NODE < $1 ? TASKS_PER_NODE : $1))"
  else
    echo "--ntasks=$1"
  fi
}

# prepare_graph FILE NODES PARTS TASKS: a prepare job unless FILE exists; sets prep (id or "")
prepare_graph() {
  prep=""
  if [ -f "$1" ]; then echo "reusing $1"; return; fi
  # shellcheck disable=SC2046 # layout prints several options
  OUT=$1 NODES=$2 PARTS=$3 IMPORT_DIR="" SEED=$SEED GEN_ARGS=$GEN_ARGS PART_METHOD=$PART_METHOD \
    submit "erase-$MODE-data" "" $(layout "$4") --output="${1%.h5}.prepare.out" \
    "$jobs/prepare.sbatch"
  prep=$last
}

# train_run P DATA: one train.sbatch job of P ranks writing RESULTS/rP.*
train_run() {
  local p=$1 data=$2 stem=$RESULTS/r$1
  # shellcheck disable=SC2046 # layout prints several options
  DATA=$data OUT=$stem.h5 LOG=$stem.log.json CKPT=$stem.ckpt.h5 EPOCHS=$EPOCHS \
    EXTRA_ARGS=$TRAIN_ARGS submit "erase-$MODE-P$p" "${prep:+afterok:$prep}" $(layout "$p") \
    --output="$stem.out" "$jobs/train.sbatch"
  trains+=("$last")
}

trains=()
if [ "$MODE" = strong ]; then
  if [ -z "$DATA" ]; then
    DATA=$RESULTS/data.h5
    prepare_graph "$DATA" "$NODES" "$RANKS" "$max"
  else
    [ -f "$DATA" ] || die "DATA '$DATA' does not exist"
    DATA=$(realpath "$DATA")
    prep=""
  fi
  for p in $RANKS; do train_run "$p" "$DATA"; done
else
  for p in $RANKS; do
    prepare_graph "$RESULTS/data-$p.h5" $((p * NODES_PER_RANK)) "$p" "$p"
    train_run "$p" "$RESULTS/data-$p.h5"
  done
fi

json_str() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
list() { local IFS=,; echo "[$*]"; }
# shellcheck disable=SC2086 # RANKS is a list
cat >"$RESULTS/study.json" <<EOF
{"mode": "$MODE", "ranks": $(list $RANKS), "nodes": $NODES, "nodes_per_rank": $NODES_PER_RANK,
 "epochs": $EPOCHS, "train_args": $(json_str "$TRAIN_ARGS"), "data": $(json_str "${DATA:-}"),
 "submitted": "$(date '+%F %T')", "train_jobs": $(list "${trains[@]}")}
EOF
deps=$(IFS=:; echo "${trains[*]}")
SERIAL=0 submit "erase-$MODE-collect" "afterany:$deps" --ntasks=1 --output="$RESULTS/collect.out" \
  --wrap="$(printf '%q ' "$PYTHON" "$jobs/collect_scaling.py" "$RESULTS")"
