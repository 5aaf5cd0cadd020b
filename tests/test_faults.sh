#!/usr/bin/env bash
# test_faults.sh: the error discipline (docs/ERRORS.md) proved by fault injection. For each command
# of a small Cora workflow (2 ranks: import, partition with METIS into 2 parts and with PT-Scotch
# into 4 keeping the best of 2 tries (--ncuts 2), and train with --reorder rcm, --out,
# --checkpoint --checkpoint-every 2 and --log-json) it counts the fault sites each rank passes
# (ERASE_FAULT_COUNT), then fails site k on one rank (ERASE_FAULT=any:k:RANK) for k = OFFSET,
# OFFSET + STRIDE, ... on rank 1, and every STRIDE0-th on rank 0, and asserts for each run: it
# ends within 30 s; stderr has exactly one "erase-mpi: error:" line (rank 0's); every rank exits
# non-zero; no output file, temporary file or completed log is left; the checkpoint from before
# the run still verifies and resumes; the partitions sidecar from before is unchanged. Environment: FAULT_STRIDE (default 61), FAULT_STRIDE0
# (STRIDE * 7), FAULT_OFFSET (1), FAULT_COMMANDS ("import partition ptscotch train"),
# FAULT_KEEP=1 keeps the work directory. Prints one line per failed case and a summary.
set -uo pipefail
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
CORA=${ER_CORA_DIR:-}
[ -r "$CORA/graph.edges" ] || { echo "SKIP: no Cora at '$CORA'"; exit 77; }
STRIDE=${FAULT_STRIDE:-61} OFFSET=${FAULT_OFFSET:-1}
STRIDE0=${FAULT_STRIDE0:-$((STRIDE * 7))}
COMMANDS=${FAULT_COMMANDS:-import partition ptscotch train}
T=$(mktemp -d /tmp/er_faults.XXXXXX)
[ "${FAULT_KEEP:-0}" = 1 ] || trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail=0 runs=0 bad=0

# the inputs every case starts from
"$ERASE_BIN" import --dir "$CORA" --out base.h5 >/dev/null || { echo "import failed"; exit 1; }
"$MPIEXEC" -n 2 "$ERASE_BIN" partition --data base.h5 --parts 2 >/dev/null ||
  { echo "partition failed"; exit 1; }
TRAIN=(--epochs 4 --hidden 16 --heads 2 --embed 32 --reorder rcm --quiet 1)
"$MPIEXEC" -n 2 "$ERASE_BIN" train --data base.h5 "${TRAIN[@]}" --epochs 2 --checkpoint ck0.h5 \
  --checkpoint-every 2 >/dev/null || { echo "baseline checkpoint failed"; exit 1; }

args_for() { # COMMAND -> the erase-mpi arguments of one case, in the case directory
  case $1 in
  import) echo import --dir "$CORA" --out out.h5 ;;
  partition) echo partition --data data.h5 --parts 2 ;;
  ptscotch) echo partition --data data.h5 --parts 4 --method ptscotch --ncuts 2 ;;
  train) echo train --data "$T/base.h5" "${TRAIN[*]}" --out out.h5 --checkpoint ck.h5 \
    --checkpoint-every 2 --log-json log.jsonl ;;
  esac
}

prepare() { # DIR COMMAND: a fresh case directory
  rm -rf "$1" && mkdir -p "$1"
  case $2 in
  partition | ptscotch) cp base.h5 "$1/data.h5" && cp base.partitions.h5 "$1/data.partitions.h5" ;;
  train) cp ck0.h5 "$1/ck.h5" ;;
  esac
}

run() { # DIR ERASE_FAULT-value COMMAND: runs the case, per-rank exit codes in DIR/exit.R
  local d=$1 spec=$2 cmd=$3
  # shellcheck disable=SC2046
  (cd "$d" && ERASE_FAULT=$spec ERASE_FAULT_COUNT=$d/count timeout 30 "$MPIEXEC" -n 2 \
    sh -c '"$@"; echo $? > exit.$OMPI_COMM_WORLD_RANK' sh "$ERASE_BIN" $(args_for "$cmd") \
    >out.txt 2>err.txt)
  echo $? >"$d/mpirun.rc"
}

check() { # DIR COMMAND SPEC: the assertions of one faulty run
  local d=$1 cmd=$2 spec=$3 why=()
  [ "$(cat "$d/mpirun.rc")" = 124 ] && why+=("timed out (hang)")
  local r code
  for r in 0 1; do
    code=$(cat "$d/exit.$r" 2>/dev/null || echo missing)
    [ "$code" = 0 ] && why+=("rank $r exited 0")
  done
  local n
  n=$(grep -c '^erase-mpi: error:' "$d/err.txt")
  [ "$n" = 1 ] || why+=("$n error lines")
  grep -q 'fault injected' "$d/err.txt" || why+=("the fault never fired")
  grep -q 'Sanitizer\|runtime error' "$d/err.txt" && why+=("sanitizer report")
  [ -e "$d/out.h5" ] && why+=("out.h5 left")
  compgen -G "$d/*.tmp*" >/dev/null && why+=("temporary file left: $(ls "$d" | grep tmp)")
  [ -f "$d/log.jsonl" ] && grep -q '"test_mean"' "$d/log.jsonl" && why+=("log looks complete")
  if [ "$cmd" = train ]; then
    "$MPIEXEC" -n 1 "$ERASE_BIN" train --data "$T/base.h5" "${TRAIN[@]}" --resume "$d/ck.h5" \
      --epochs 5 >"$d/resume.txt" 2>&1 || why+=("checkpoint does not resume: $(tail -1 "$d/resume.txt")")
  fi
  if [ "$cmd" = partition ] || [ "$cmd" = ptscotch ]; then
    "$ERASE_BIN" info "$d/data.h5" >"$d/info.txt" 2>&1 || why+=("dataset unreadable after the fault")
    cmp -s base.h5 "$d/data.h5" || why+=("dataset changed")
    cmp -s base.partitions.h5 "$d/data.partitions.h5" || why+=("sidecar changed")
  fi
  runs=$((runs + 1))
  if [ ${#why[@]} -gt 0 ]; then
    bad=$((bad + 1)); fail=1
    echo "FAIL $cmd $spec: ${why[*]}"
    grep -m1 'fault injected' "$d/err.txt" | sed 's/^/     /'
    grep -m1 '^erase-mpi: error:' "$d/err.txt" | cut -c1-200 | sed 's/^/     /'
  fi
}

for cmd in $COMMANDS; do
  d=$T/count-$cmd
  prepare "$d" "$cmd"
  run "$d" "" "$cmd"
  [ "$(cat "$d/exit.0" 2>/dev/null)" = 0 ] || { echo "FAIL: $cmd without a fault failed"; cat "$d/err.txt"; exit 1; }
  n1=$(awk '$1 == "any" {print $2}' "$d/count.1") n0=$(awk '$1 == "any" {print $2}' "$d/count.0")
  echo "$cmd: $n0 fault sites on rank 0, $n1 on rank 1"
  for ((k = OFFSET; k <= n1; k += STRIDE)); do
    prepare "$T/case" "$cmd"; run "$T/case" "any:$k:1" "$cmd"; check "$T/case" "$cmd" "any:$k:1"
  done
  for ((k = OFFSET; k <= n0; k += STRIDE0)); do
    prepare "$T/case" "$cmd"; run "$T/case" "any:$k:0" "$cmd"; check "$T/case" "$cmd" "any:$k:0"
  done
done
echo "test_faults: $runs faulty runs, $bad failed (stride $STRIDE, rank 0 $STRIDE0, offset $OFFSET)"
exit $fail
