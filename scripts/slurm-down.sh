#!/usr/bin/env bash
# slurm-down.sh: stop the private Slurm that slurm-up.sh started in DIR: cancel its jobs, end its
# slurmstepd trees, then exactly the daemons recorded in DIR/pids (PID and /proc/PID/comm match).
# It never signals a process it cannot tie to DIR and keeps DIR (logs); running it again is a no-op.
# Usage: scripts/slurm-down.sh DIR
set -euo pipefail

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: slurm-down.sh DIR" >&2; exit 1; }
dir=$(realpath -m "$1")
[ -f "$dir/pids" ] || exit 0
grace=${SLURM_DOWN_GRACE:-5} # seconds between TERM and KILL

# alive PID NAME: PID runs NAME and is not a zombie (an unreaped zombie counts as dead).
# Builtins only: a fork costs tens of ms on a loaded 2-core machine and this runs in loops.
alive() {
  local c st
  { read -r c <"/proc/$1/comm" && read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
  st=${st##*) }
  [ "$c" = "$2" ] && [ "${st%% *}" != Z ]
}

# stop "PID NAME"...: TERM the live ones, KILL what is left after the grace period.
stop() {
  local e pid name left t phase i
  for e in "$@"; do
    read -r pid name <<<"$e"
    if alive "$pid" "$name"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for phase in term kill; do # poll every 0.05 s: grace s after TERM, 2 s after KILL
    [ "$phase" = term ] && t=$((grace * 20)) || t=40
    for ((i = 0; i < t; i++)); do
      left=()
      for e in "$@"; do
        read -r pid name <<<"$e"
        if alive "$pid" "$name"; then left+=("$e"); fi
      done
      [ ${#left[@]} -gt 0 ] || return 0
      sleep 0.05
    done
    [ "$phase" = kill ] && break
    for e in "${left[@]}"; do
      read -r pid name <<<"$e"
      [ "$name" = slurmstepd ] || echo "slurm-down: $name ($pid) ignored SIGTERM: SIGKILL" >&2
      if alive "$pid" "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
  done
  echo "slurm-down: still running: ${left[*]}" >&2
  return 1
}

# stepd_trees: "PID COMM" of this instance's slurmstepd processes and all their descendants (job
# tasks). slurmstepd clears its environment, so it is tied to DIR by its open files: it keeps
# DIR/log/slurmd.log open and listens on a Unix socket under DIR/spool.
stepd_trees() {
  local p f c st roots=() inodes queue q
  local -A kids=() comm=()
  inodes=$(awk -v s="$dir/spool/" 'index($8, s) == 1 { print "socket:[" $7 "]" }' /proc/net/unix)
  for p in /proc/[0-9]*; do
    { read -r c <"$p/comm" && read -r st <"$p/stat"; } 2>/dev/null || continue
    comm[${p#/proc/}]=$c
    st=${st##*) } # "S PPID ..."
    st=${st#* }
    kids[${st%% *}]+=" ${p#/proc/}"
    [ "$c" = slurmstepd ] || continue
    for f in "$p"/fd/*; do
      f=$(readlink "$f" 2>/dev/null) || continue
      if [ "$f" = "$dir/log/slurmd.log" ] || grep -qxF "$f" <<<"$inodes"; then
        roots+=("${p#/proc/}")
        break
      fi
    done
  done
  queue=("${roots[@]}")
  while [ ${#queue[@]} -gt 0 ]; do
    q=${queue[0]}
    queue=("${queue[@]:1}")
    echo "$q ${comm[$q]}"
    # shellcheck disable=SC2206 # word splitting of the child list is intended
    queue+=(${kids[$q]:-})
  done
}

conf=$dir/slurm.conf
mapfile -t daemons <"$dir/pids"
declare -A pid_of=()
for e in "${daemons[@]}"; do read -r pid name <<<"$e"; pid_of[$name]=$pid; done

# 1. Jobs: cancel them while the controller still runs (slurmstepd outlives slurmd otherwise).
if [ -n "${pid_of[slurmctld]:-}" ] && alive "${pid_of[slurmctld]}" slurmctld && [ -f "$conf" ]; then
  jobs=$(SLURM_CONF=$conf timeout 5 squeue -h -o %A 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    SLURM_CONF=$conf timeout 5 scancel $jobs 2>/dev/null || true
    end=$((SECONDS + 10)) # KillWait=2: steps normally end within ~3 s
    while [ "$SECONDS" -lt "$end" ]; do
      [ -z "$(SLURM_CONF=$conf timeout 5 squeue -h -o %A 2>/dev/null || true)" ] && break
      sleep 0.05
    done
  fi
fi

# 2. slurmd and slurmctld; then step daemons left behind (controller already dead, or a step
#    that ignored scancel) with their tasks: slurmstepd ignores SIGTERM (its tasks do not), so
#    its tree gets a 1 s grace before SIGKILL; munged last.
rc=0
set +e
stop ${pid_of[slurmd]:+"${pid_of[slurmd]} slurmd"} \
  ${pid_of[slurmctld]:+"${pid_of[slurmctld]} slurmctld"} || rc=1
mapfile -t steps < <(stepd_trees)
[ ${#steps[@]} -eq 0 ] || grace=1 stop "${steps[@]}" || rc=1
[ -z "${pid_of[munged]:-}" ] || stop "${pid_of[munged]} munged" || rc=1
exit $rc
