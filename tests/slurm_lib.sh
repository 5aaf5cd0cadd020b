# shellcheck shell=bash
# slurm_lib.sh: shell helpers for tests that run jobs on a private single-node Slurm (started by
# scripts/slurm-up.sh): require/skip, start with an EXIT trap, submit, wait for a terminal state.
# Source it (`. "$ER_SOURCE_DIR/tests/slurm_lib.sh"`); it only defines functions and variables.
#
#   slurm_require                  exit 77 (skipped) unless Slurm + munge are installed and uid 0
#   slurm_start [DIR]              start a cluster (DIR default: a new /tmp/er-slurm.XXXXXX that
#                                  is removed at exit), source DIR/env.sh, trap EXIT -> slurm_stop
#   slurm_stop                     stop it (idempotent); ER_SLURM_DOWN_SECONDS = time taken
#   slurm_submit SBATCH_ARGS...    sbatch --parsable; prints the job id
#   slurm_wait JOBID [TIMEOUT]     poll `scontrol -o show job` every ER_SLURM_POLL (0.5) s until a
#                                  terminal state; prints it (WAIT_TIMEOUT and 1 after TIMEOUT s,
#                                  default 60)
#   slurm_expect JOBID STATE [TIMEOUT]  slurm_wait + compare; on mismatch prints job and output
#   slurm_job_field JOBID FIELD    one field of `scontrol -o show job` (StdOut, ExitCode, ...)
#   slurm_leftovers [DIR]          print recorded daemons / step daemons still alive; 1 if any
#   slurm_elapsed T0               seconds since T0 (an $EPOCHREALTIME value), 2 decimals
#   slurm_at_exit CMD...           run CMD (e.g. stop a second cluster) in the EXIT trap first
# After slurm_start: ER_SLURM_TEST_DIR (state dir), SLURM_CONF (exported), ER_SLURM_UP_SECONDS.
# DIR/env.sh unsets every SLURM_* variable before exporting SLURM_CONF: keep own state elsewhere.
# Own EXIT trap needed? Call slurm_stop from it (slurm_start's trap would be replaced).

ER_SLURM_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ER_SLURM_TEST_DIR=""
ER_SLURM_TEST_OWN_DIR=0
ER_SLURM_POLL=${ER_SLURM_POLL:-0.5}
ER_SLURM_AT_EXIT=()
ER_SLURM_TERMINAL="COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL PREEMPTED BOOT_FAIL DEADLINE OUT_OF_MEMORY"

slurm_require() {
  local c
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: the private Slurm test cluster needs root"; exit 77; }
  for c in slurmctld slurmd munged sbatch srun scontrol sinfo; do
    command -v "$c" >/dev/null || {
      echo "SKIP: '$c' is not installed (scripts/install-deps.sh installs Slurm and munge)"
      exit 77
    }
  done
}

slurm_start() {
  local dir=${1:-} t0 rc=0
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/er-slurm.XXXXXX)
    ER_SLURM_TEST_OWN_DIR=1
  fi
  ER_SLURM_TEST_DIR=$dir
  trap '_slurm_exit_trap' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  t0=$EPOCHREALTIME
  "$ER_SLURM_LIB_ROOT/scripts/slurm-up.sh" "$dir" || rc=$?
  # shellcheck disable=SC2034 # read by the tests
  ER_SLURM_UP_SECONDS=$(slurm_elapsed "$t0")
  [ "$rc" -eq 0 ] || { echo "slurm_start: slurm-up.sh failed ($rc)" >&2; return "$rc"; }
  # shellcheck disable=SC1091
  . "$dir/env.sh"
}

slurm_stop() {
  [ -n "${ER_SLURM_TEST_DIR:-}" ] || return 0
  local t0=$EPOCHREALTIME rc=0
  "$ER_SLURM_LIB_ROOT/scripts/slurm-down.sh" "$ER_SLURM_TEST_DIR" || rc=$?
  # shellcheck disable=SC2034 # read by the tests
  ER_SLURM_DOWN_SECONDS=$(slurm_elapsed "$t0")
  return "$rc"
}

slurm_at_exit() { ER_SLURM_AT_EXIT+=("$(printf '%q ' "$@")"); }

_slurm_exit_trap() {
  local rc=$? f c
  for c in "${ER_SLURM_AT_EXIT[@]}"; do eval "$c" || rc=1; done
  slurm_stop || rc=1
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -d "$ER_SLURM_TEST_DIR/log" ]; then
    for f in "$ER_SLURM_TEST_DIR"/log/*; do
      [ -s "$f" ] || continue
      echo "----- $f (last 20 lines)"
      tail -n 20 "$f"
    done
  fi
  if [ "$ER_SLURM_TEST_OWN_DIR" = 1 ] && [ -z "${ER_SLURM_KEEP:-}" ]; then rm -rf "$ER_SLURM_TEST_DIR"; fi
  exit "$rc"
}

slurm_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

slurm_submit() {
  local out
  out=$(sbatch --parsable "$@") || return 1
  echo "${out%%;*}"
}

slurm_job_field() {
  local line
  line=$(scontrol -o show job "$1" 2>/dev/null) || return 1
  [[ " $line" =~ [[:space:]]$2=([^[:space:]]*) ]] || return 1
  echo "${BASH_REMATCH[1]}"
}

slurm_wait() {
  local id=$1 timeout=${2:-60} t0=$EPOCHREALTIME state=""
  local end=$((${t0%.*} + timeout))
  while :; do
    state=$(slurm_job_field "$id" JobState) || state=""
    case " $ER_SLURM_TERMINAL " in *" $state "*) [ -n "$state" ] && { echo "$state"; return 0; } ;; esac
    if [ "${EPOCHREALTIME%.*}" -ge "$end" ]; then
      echo "slurm_wait: job $id still '${state:-unknown}' after $timeout s" >&2
      scontrol show job "$id" >&2 || true
      echo "WAIT_TIMEOUT"
      return 1
    fi
    sleep "$ER_SLURM_POLL"
  done
}

slurm_expect() {
  local id=$1 want=$2 got out
  got=$(slurm_wait "$id" "${3:-60}") || true
  [ "$got" = "$want" ] && return 0
  echo "slurm_expect: job $id ended $got, expected $want" >&2
  scontrol show job "$id" >&2 || true
  out=$(slurm_job_field "$id" StdOut) || out=""
  if [ -n "$out" ] && [ -f "$out" ]; then
    echo "----- $out" >&2
    tail -n 30 "$out" >&2
  fi
  return 1
}

slurm_leftovers() {
  local dir=${1:-$ER_SLURM_TEST_DIR} pid name c st p f found=0
  [ -f "$dir/pids" ] || return 0
  while read -r pid name; do
    { read -r c <"/proc/$pid/comm" && read -r st <"/proc/$pid/stat"; } 2>/dev/null || continue
    st=${st##*) }
    if [ "$c" = "$name" ] && [ "${st%% *}" != Z ]; then
      echo "still running: $name ($pid)"
      found=1
    fi
  done <"$dir/pids"
  for p in /proc/[0-9]*; do
    read -r c 2>/dev/null <"$p/comm" || continue
    [ "$c" = slurmstepd ] || continue
    for f in "$p"/fd/*; do
      if [ "$(readlink "$f" 2>/dev/null)" = "$dir/log/slurmd.log" ]; then
        echo "still running: slurmstepd (${p#/proc/})"
        found=1
        break
      fi
    done
  done
  return "$found"
}
