# shellcheck shell=bash
# common.sh: helpers shared by the jobs/*.sbatch scripts: messages, the fail-fast ERR trap, the
# erase-mpi lookup, knob checks, the srun launcher and a signal-proof wait. Sourced, never run.
# It starts nothing and reads no knob except ERASE_BIN. Set first: ER_JOB (message prefix) and
# ER_JOBS_DIR (this directory; the scripts find it from the job's Command, see train.sbatch).
#
#   say MSG / die MSG              "$ER_JOB: MSG" on stdout / "$ER_JOB: error: MSG" on stderr + exit 1
#   run CMD...                     print CMD, run it, print its wall time (set -e stops on failure)
#   er_require_bin                 set ERASE_BIN (knob, else found next to the script) or die
#   er_check_counts NAME VALUE     die unless VALUE is a non-empty list of positive integers
#   er_check_uint NAME VALUE       die unless VALUE is one non-negative integer
#   er_wait_pid PID                wait for PID even while traps interrupt `wait`; ER_RC = status
#   ER_SRUN=(srun --mpi=pmix ...)  the launcher of every MPI step

: "${ER_JOB:?set ER_JOB before sourcing common.sh}" "${ER_JOBS_DIR:?set ER_JOBS_DIR too}"

# One BLAS thread per rank; ranks yield while waiting (more Slurm CPUs than cores otherwise
# makes busy-polling ranks about 4x slower).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}

# Only --mpi=pmix starts Debian's Open MPI ranks; --kill-on-bad-exit: a rank that dies ends the
# step instead of leaving the others waiting in a collective.
# shellcheck disable=SC2034 # used by the scripts that source this file
ER_SRUN=(srun --mpi=pmix --kill-on-bad-exit=1)

say() { echo "$ER_JOB: $*"; }
die() { echo "$ER_JOB: error: $*" >&2; exit 1; }
trap 'echo "$ER_JOB: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

run() {
  say "+ $*"
  local t0=$SECONDS
  "$@"
  say "  ($((SECONDS - t0)) s)"
}

# erase-mpi: the ERASE_BIN knob, else <repo of jobs/>/build/erase-mpi, then the installed one
# (jobs/ in PREFIX/share/erase-mpi, the binary in PREFIX/bin), then
# $SLURM_SUBMIT_DIR/build/erase-mpi, then erase-mpi on PATH.
er_require_bin() {
  local c
  if [ -z "${ERASE_BIN:-}" ]; then
    for c in "$ER_JOBS_DIR/../build/erase-mpi" "$ER_JOBS_DIR/../../../bin/erase-mpi" \
             "${SLURM_SUBMIT_DIR:-.}/build/erase-mpi" "$(command -v erase-mpi || true)"; do
      if [ -n "$c" ] && [ -x "$c" ]; then ERASE_BIN=$(realpath "$c"); break; fi
    done
    [ -n "${ERASE_BIN:-}" ] || die "no erase-mpi found (build it, or set ERASE_BIN=/path/to/erase-mpi)"
  fi
  [ -x "$ERASE_BIN" ] || die "ERASE_BIN '$ERASE_BIN' is not an executable"
}

er_check_counts() {
  local v
  [ -n "${2// /}" ] || die "$1 is empty"
  for v in $2; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "$1 must be positive integers, got '$v'"
  done
}

er_check_uint() { [[ $2 =~ ^[0-9]+$ ]] || die "$1 must be a non-negative integer, got '$2'"; }

# A trapped signal makes `wait` return 128+n while PID still runs: wait again until it has ended.
# Handlers set ER_TRAPPED=1; a status reaped during the handler is fetched by the last wait.
er_wait_pid() {
  local pid=$1 rc r
  while :; do
    ER_TRAPPED=0
    rc=0
    wait "$pid" || rc=$?
    [ "$ER_TRAPPED" = 1 ] || break
    if ! kill -0 "$pid" 2>/dev/null; then # ended meanwhile: its saved status, if not yet taken
      r=0
      wait "$pid" 2>/dev/null || r=$?
      [ "$r" -eq 127 ] || rc=$r
      break
    fi
  done
  # shellcheck disable=SC2034 # the result, read by the caller
  ER_RC=$rc
}
