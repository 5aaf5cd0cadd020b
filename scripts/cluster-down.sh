#!/usr/bin/env bash
# cluster-down.sh: stop the cluster that cluster-up.sh started in DIR: cancel its jobs, stop its
# slurmctld and slurmds (recorded PIDs, /proc/PID/comm checked), then every process left in its
# node namespaces (job steps, tasks, commands run with cluster-exec.sh), its munged, and delete
# its namespaces (which deletes its links). Namespaces are found by the name derived from DIR, so
# a leftover of a failed or interrupted up is removed too. It keeps DIR (logs, job data).
# Running it again, or on a DIR that never held a cluster, does nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cluster-lib.sh
. "$here/cluster-lib.sh"

case ${1:-} in
  -h | --help)
    echo "usage: scripts/cluster-down.sh DIR    stop the cluster of scripts/cluster-up.sh DIR"
    exit 0 ;;
esac
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: cluster-down.sh DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "cluster-down: must run as root" >&2; exit 1; }
cl_init "$1"
ns_ids=$(cl_ns_ids)
[ -f "$CL_DIR/pids" ] || [ -n "$ns_ids" ] || exit 0
grace=${CLUSTER_DOWN_GRACE:-5} # seconds between TERM and KILL for the daemons
rc=0

# 1. Jobs: cancel them while the controller runs (slurmstepd would outlive slurmd otherwise).
if [ -f "$CL_DIR/env.sh" ] && cl_pid slurmctld n1 >/dev/null && cl_pid sleep n1 >/dev/null; then
  jobs=$(cl_exec n1 timeout 5 squeue -h -o %A 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    cl_exec n1 timeout 5 scancel $jobs 2>/dev/null || true
    end=$((SECONDS + 10)) # KillWait=2: steps normally end within ~3 s
    while [ "$SECONDS" -lt "$end" ]; do
      [ -z "$(cl_exec n1 timeout 5 squeue -h -o %A 2>/dev/null || true)" ] && break
      sleep 0.1
    done
  fi
fi

# 2. The Slurm daemons, by recorded PID.
daemons=()
holders=()
if [ -f "$CL_DIR/pids" ]; then
  while read -r pid comm node; do
    cl_alive "$pid" "$comm" || continue
    case $comm in
      slurmd | slurmctld) daemons+=("$pid $comm") ;;
      sleep) holders+=("$pid $comm") ;;
    esac
  done <"$CL_DIR/pids"
fi
cl_stop "$grace" "${daemons[@]}" || rc=1

# 3. Whatever else runs in the node namespaces (slurmstepd ignores TERM: 1 s, then KILL), then
#    the holders. Only processes inside namespaces this cluster created are signalled.
mapfile -t rest < <(cl_ns_procs "$ns_ids")
declare -A is_holder=()
for e in "${holders[@]}"; do is_holder[${e%% *}]=1; done
others=()
for e in "${rest[@]}"; do [ -n "${is_holder[${e%% *}]:-}" ] || others+=("$e"); done
cl_stop 1 "${others[@]}" || rc=1
mapfile -t rest < <(cl_ns_procs "$ns_ids")
cl_stop 1 "${rest[@]}" || rc=1

# 4. munged: the recorded PID, or any munged serving DIR's socket.
mapfile -t m < <(cl_munged)
cl_stop "$grace" "${m[@]}" || rc=1

# 5. The namespaces (their veths and the bridge go with them).
for f in /run/netns/"$CL_PREFIX"-*; do
  [ -e "$f" ] || continue
  ip netns del "${f#/run/netns/}" 2>/dev/null || {
    echo "cluster-down: could not delete namespace ${f#/run/netns/}" >&2
    rc=1
  }
done
remaining=$(cl_ns_procs "$ns_ids")
if [ -n "$remaining" ]; then
  echo "cluster-down: still in the cluster's namespaces: $(tr '\n' ' ' <<<"$remaining")" >&2
  rc=1
fi
exit $rc
