#!/usr/bin/env bash
# cluster-exec.sh: run a command "on a node" of the cluster of scripts/cluster-up.sh: in that
# node's network, UTS (hostname) and mount (its own /tmp) namespaces, from the current directory,
# with DIR/env.sh's environment (SLURM_CONF; Open MPI on the cluster's subnet). Without CMD it
# starts an interactive shell there. Its exit status is CMD's. It changes nothing on the node.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cluster-lib.sh
. "$here/cluster-lib.sh"

usage() {
  cat <<'EOF'
usage: scripts/cluster-exec.sh DIR NODE [CMD [ARG...]]      (as root)

Run CMD on node NODE (n1, n2, ...) of the cluster in DIR, e.g.
  scripts/cluster-exec.sh /var/tmp/c1 n1 sinfo
  scripts/cluster-exec.sh /var/tmp/c1 n1 srun -N 3 --mpi=pmix hostname
  scripts/cluster-exec.sh /var/tmp/c1 n2 sbatch -N 2 -n 4 jobs/train.sbatch
The current directory must exist on the node: anywhere outside /tmp (node-local there).
Without CMD: an interactive shell on the node ($SHELL, else bash).
EOF
}
die() { echo "cluster-exec: $*" >&2; exit 1; }

case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 2 ] && [ -n "$1" ] && [ -n "$2" ] || { usage >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "must run as root (nsenter)"
cl_init "$1"
node=$2
shift 2
cl_read_conf || die "no cluster in '$CL_DIR' (start one with scripts/cluster-up.sh)"
[[ $node =~ ^n([1-9][0-9]*)$ ]] && [ "${BASH_REMATCH[1]}" -le "$CL_NODES" ] ||
  die "no node '$node' (the cluster has n1..n$CL_NODES)"
holder=$(cl_pid sleep "$node") || die "node $node is not running (cluster stopped?)"
case $PWD/ in
  /tmp/*) die "the current directory $PWD is under /tmp, which is node-local: cd elsewhere" ;;
esac
[ $# -gt 0 ] || set -- "${SHELL:-/bin/bash}"

# shellcheck disable=SC1091
. "$CL_DIR/env.sh"
exec nsenter --target "$holder" --net --uts --mount --wdns="$PWD" -- "$@"
