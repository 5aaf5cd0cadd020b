#!/usr/bin/env bash
# cluster-fail.sh: make one node of the cluster of scripts/cluster-up.sh fail, or bring it back.
#   --kill (default)  crash: SIGKILL every process on the node (slurmd, slurmstepd, job tasks,
#                     commands run there; slurmctld too on n1); the link stays up
#   --link            cut its link (the node's end goes down); processes keep running, unreachable
#   --restore         link up again, and restart slurmd (and slurmctld on n1) if they are dead
# Only processes inside the node's namespaces are signalled; other nodes are not touched.
set -euo pipefail
set +m # no job control: setsid execs in place, so $! is the daemon's own PID

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cluster-lib.sh
. "$here/cluster-lib.sh"

usage() {
  cat <<'EOF'
usage: scripts/cluster-fail.sh DIR NODE [--kill | --link | --restore]      (as root)

  --kill     (default) SIGKILL every process on NODE (slurmd, job steps and their tasks,
             commands started there with cluster-exec.sh; on n1 also slurmctld)
  --link     take NODE's link down: nothing is killed, the node is cut off the network
  --restore  bring the link up and restart the node's dead Slurm daemons
slurmctld declares a silent node DOWN after SlurmdTimeout (cluster-up.sh's SLURMD_TIMEOUT, 20 s
by default); its running jobs then end NODE_FAIL (or are requeued); after --restore slurmd
registers again and ReturnToService=2 makes the node usable.
EOF
}
die() { echo "cluster-fail: $*" >&2; exit 1; }

case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 2 ] && [ $# -le 3 ] && [ -n "$1" ] || { usage >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
cl_init "$1"
node=$2
mode=${3:---kill}
case $mode in --kill | --link | --restore) ;; *) usage >&2; exit 2 ;; esac
cl_read_conf || die "no cluster in '$CL_DIR'"
[[ $node =~ ^n([1-9][0-9]*)$ ]] && [ "${BASH_REMATCH[1]}" -le "$CL_NODES" ] ||
  die "no node '$node' (the cluster has n1..n$CL_NODES)"
ns=$CL_PREFIX-$node
[ -e "/run/netns/$ns" ] || die "namespace $ns is gone (cluster stopped?)"
holder=$(cl_pid sleep "$node") || die "node $node's namespace holder is not running"
ns_id="net:[$(stat -L -c %i "/run/netns/$ns")]"

case $mode in
  --kill)
    victims=()
    while read -r pid comm; do
      [ "$pid" = "$holder" ] || victims+=("$pid $comm")
    done < <(cl_ns_procs "$ns_id")
    for e in "${victims[@]}"; do kill -KILL "${e%% *}" 2>/dev/null || true; done
    cl_stop 0 "${victims[@]}" || die "some processes on $node survived SIGKILL"
    echo "cluster-fail: $node crashed: killed ${#victims[@]} processes (${victims[*]})"
    ;;
  --link)
    ip -n "$ns" link set "$CL_IF" down
    echo "cluster-fail: $node's link is down"
    ;;
  --restore)
    ip -n "$ns" link set "$CL_IF" up
    started=()
    # restart DAEMON: as cluster-up.sh does, recorded in DIR/pids for cluster-down.sh.
    restart() {
      local comm=$1 pid i c=""
      shift
      setsid nsenter --target "$holder" --net --uts --mount --wdns=/ "$@" </dev/null \
        >>"$CL_DIR/log/$comm-$node.out" 2>&1 &
      pid=$!
      for ((i = 0; i < 250; i++)); do
        read -r c 2>/dev/null <"/proc/$pid/comm" || break
        [ "$c" = "$comm" ] && break
        sleep 0.02
      done
      echo "$pid $comm $node" >>"$CL_DIR/pids"
      cl_alive "$pid" "$comm" || die "$comm on $node did not start again (see $CL_DIR/log)"
      started+=("$comm")
    }
    if [ "$node" = n1 ] && ! cl_pid slurmctld n1 >/dev/null; then
      restart slurmctld slurmctld -D -f "$CL_DIR/slurm.conf" # recovers the saved state
    fi
    if ! cl_pid slurmd "$node" >/dev/null; then restart slurmd slurmd -D -f "$CL_DIR/slurm.conf"; fi
    echo "cluster-fail: $node restored (link up${started[*]:+; restarted ${started[*]}})"
    ;;
esac
