#!/usr/bin/env bash
# cluster-up.sh: start a private multi-node Slurm on this one machine. Node nI is a network + UTS
# + mount namespace (hostname nI, address 10.213.0.I/24 on a veth link to a bridge in a switch
# namespace, its own /tmp and /dev/shm); slurmctld runs on n1, one slurmd per node, munged in the
# root namespace. DIR is the cluster's shared filesystem: config, state, logs, sockets, PIDs.
# It adds no address, route or link outside the namespaces it creates and does not touch /etc
# (except creating a missing munge key). Stop it with scripts/cluster-down.sh DIR.
set -euo pipefail
set +m # no job control: setsid then execs in place, so $! is the daemon's own PID

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cluster-lib.sh
. "$here/cluster-lib.sh"

usage() {
  cat <<'EOF'
usage: scripts/cluster-up.sh DIR NODES      (as root)

Start a Slurm cluster of NODES nodes n1..nNODES (1-250), each a network namespace with its own
hostname, /tmp and /dev/shm, linked through a bridge on 10.213.0.0/24. DIR (outside /tmp, at
most 64 characters) is the shared filesystem: it is wiped (only if empty or made by this script)
and then holds slurm.conf, env.sh, state, logs, node-local /tmp trees (DIR/nodes/nI/tmp).

Environment knobs:
  LINK_RATE=10gbit   limit every link in both directions (tc units: kbit mbit gbit bps ...)
  LINK_DELAY=200us   delay every frame this long on every link, both directions; a node-to-node
                     frame crosses two links: 2x LINK_DELAY one way. With LINK_DELAY the links
                     are a user-space switch (scripts/linkdelay.c, compiled into DIR: each node's
                     eth0 is a tap device, rate and delay applied per frame) instead of the
                     kernel bridge with tbf, which has no delay (no netem needed)
  NODE_CPUS=2        CPUs each slurmd advertises
  SLURMD_TIMEOUT=20  seconds before slurmctld declares an unresponsive node DOWN

Run commands on a node with scripts/cluster-exec.sh DIR nI CMD..., take a node down with
scripts/cluster-fail.sh, stop everything with scripts/cluster-down.sh DIR.
EOF
}
die() { echo "cluster-up: $*" >&2; exit 1; }

case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 2 ] && [ -n "$1" ] || { usage >&2; exit 2; }
[[ $2 =~ ^[1-9][0-9]*$ ]] && [ "$2" -le 250 ] || die "NODES must be an integer in 1..250, got '$2'"
nodes=$2
t_start=$EPOCHREALTIME
[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces; SlurmUser=root; munged runs as munge)"
for c in ip nsenter unshare setsid setpriv sha256sum slurmctld slurmd munged sinfo; do
  command -v "$c" >/dev/null ||
    die "'$c' not found (scripts/install-deps.sh installs Slurm, munge and iproute2)"
done
id munge >/dev/null 2>&1 || die "user 'munge' does not exist (is the munge package installed?)"
ip netns list >/dev/null 2>&1 || die "'ip netns' does not work here (no network namespaces?)"

# ---- knobs ---------------------------------------------------------------------------------
rate=${LINK_RATE:-}
delay=${LINK_DELAY:-}
cpus=${NODE_CPUS:-2}
slurmd_timeout=${SLURMD_TIMEOUT:-20}
rate_bps="" # bytes per second, for the tbf burst
if [ -n "$rate" ]; then
  [[ $rate =~ ^([0-9]+(\.[0-9]+)?)([kmgt]?)(bit|bps)$ ]] ||
    die "LINK_RATE must be a number with a tc unit (kbit mbit gbit bps ...), got '$rate'"
  rate_bps=$(awk -v n="${BASH_REMATCH[1]}" -v m="${BASH_REMATCH[3]}" -v u="${BASH_REMATCH[4]}" \
    'BEGIN { f = index("kmgt", m); v = n * (m == "" ? 1 : 1000 ^ f); if (u == "bit") v /= 8;
             printf "%d", v }')
  [ "$rate_bps" -ge 1000 ] || die "LINK_RATE '$rate' is below 8 kbit"
fi
delay_ns=""
if [ -n "$delay" ]; then
  [[ $delay =~ ^([0-9]+(\.[0-9]+)?)(us|ms|s)$ ]] ||
    die "LINK_DELAY must look like 20us, 2ms, 0.1s, got '$delay'"
  delay_ns=$(awk -v n="${BASH_REMATCH[1]}" -v u="${BASH_REMATCH[3]}" \
    'BEGIN { printf "%d", n * (u == "us" ? 1e3 : u == "ms" ? 1e6 : 1e9) }')
  [ -e /dev/net/tun ] || die "LINK_DELAY needs /dev/net/tun (tap devices)"
  command -v cc >/dev/null || die "LINK_DELAY needs a C compiler ('cc') for scripts/linkdelay.c"
fi
if [ -n "$rate" ] && [ -z "$delay" ]; then
  command -v tc >/dev/null || die "'tc' not found (iproute2)"
fi
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "NODE_CPUS must be a positive integer, got '$cpus'"
[[ $slurmd_timeout =~ ^[1-9][0-9]*$ ]] ||
  die "SLURMD_TIMEOUT must be a positive integer, got '$slurmd_timeout'"

# ---- DIR -----------------------------------------------------------------------------------
cl_init "$1"
dir=$CL_DIR
case $dir/ in
  /tmp/*) die "DIR '$dir' is under /tmp, which is node-local on the cluster: use /var/tmp/..." ;;
esac
[ "$dir" != / ] || die "DIR must not be /"
# Unix socket paths (munge socket, slurmstepd sockets in DIR/spool/nI) must stay < 108 bytes.
[ ${#dir} -le 64 ] || die "DIR path too long (${#dir} > 64 characters): '$dir'"
if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/cluster.conf" ]; then
  die "refusing to wipe '$dir': not empty and not made by cluster-up.sh"
fi

# A cluster still running from this DIR (or leftover namespaces named after it) is stopped first.
"$here/cluster-down.sh" "$dir" >/dev/null || die "could not stop the old cluster in '$dir'"
rm -rf "$dir"
mkdir -p "$dir"/{state,spool,log,run,munge,work}
chmod 0755 "$dir" # munged checks that every directory above its socket is world-executable
chown munge:munge "$dir/munge"
: >"$dir/pids"
: >"$dir/netns"
printf 'nodes=%s\nprefix=%s\nsubnet=%s\n' "$nodes" "$CL_PREFIX" "$CL_SUBNET" >"$dir/cluster.conf"

conf=$dir/slurm.conf
sock=$dir/munge/munge.socket.2

# fail MSG: print the logs, stop what we started, exit non-zero.
fail() {
  trap - ERR INT TERM
  echo "cluster-up: $*" >&2
  local f
  for f in "$dir"/log/*; do
    [ -s "$f" ] || continue
    echo "----- $f (last 20 lines)" >&2
    tail -n 20 "$f" >&2
  done
  "$here/cluster-down.sh" "$dir" >&2 || true
  exit 1
}
trap 'fail "unexpected error (line $LINENO: $BASH_COMMAND)"' ERR
# A signal only sets a flag: checked after each step, so no PID or namespace goes unrecorded.
interrupted=""
trap 'interrupted=1' INT TERM
check() { [ -z "$interrupted" ] || fail "interrupted"; }

# run CMD...: run it, fail with its own error message if it fails.
run() {
  local out
  out=$("$@" 2>&1) || fail "'$*' failed: $out"
}

# ---- namespaces and links ------------------------------------------------------------------
# addns NAME: create it, record its inode (so down finds its processes even if the name is gone),
# and turn IPv6 off in it (no link-local addresses or router solicitations on the links).
addns() {
  run ip netns add "$1"
  echo "$1 net:[$(stat -L -c %i "/run/netns/$1")]" >>"$dir/netns"
  check
  run nsenter --net="/run/netns/$1" sh -c \
    '[ ! -d /proc/sys/net/ipv6 ] || { echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
      echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6; }'
}

# shape NS DEV: LINK_RATE as the egress qdisc of DEV (tbf; the bridge's links, no LINK_DELAY).
shape() {
  local ns=$1 dev=$2 burst
  # burst: 1 ms at the rate, at least 64 KiB (a GSO packet); queue: up to 10 ms at the rate
  burst=$((rate_bps / 1000 > 65536 ? rate_bps / 1000 : 65536))
  run tc -n "$ns" qdisc add dev "$dev" root handle 10: tbf rate "$rate" burst "$burst" \
    latency 10ms
}

addns "$CL_SW"
for ((i = 1; i <= nodes; i++)); do addns "$CL_PREFIX-n$i"; done
if [ -z "$delay" ]; then # the kernel's bridge, veth links (tbf for LINK_RATE)
  run ip -n "$CL_SW" link add "$CL_BR" type bridge
  run ip -n "$CL_SW" link set "$CL_BR" up
  for ((i = 1; i <= nodes; i++)); do
    ns=$CL_PREFIX-n$i
    run ip -n "$ns" link add "$CL_IF" type veth peer name "sw-n$i" netns "$CL_SW"
    run ip -n "$CL_SW" link set "sw-n$i" master "$CL_BR"
    if [ -n "$rate" ]; then
      shape "$ns" "$CL_IF"
      shape "$CL_SW" "sw-n$i"
    fi
    run ip -n "$CL_SW" link set "sw-n$i" up
    check
  done
fi

# ---- processes -------------------------------------------------------------------------------
# start COMM NODE CMD...: setsid CMD in the background, output in DIR/log/COMM[-NODE].out, PID
# recorded in DIR/pids once /proc/PID/comm shows COMM (setsid, nsenter, unshare, setpriv and sh
# exec in place, so the PID is kept); fail if it does not get there.
start() {
  local comm=$1 node=$2 out pid i c=""
  shift 2
  out=$dir/log/$comm$([ "$node" = - ] || echo "-$node").out
  setsid "$@" </dev/null >"$out" 2>&1 &
  pid=$!
  for ((i = 0; i < 250; i++)); do
    read -r c 2>/dev/null <"/proc/$pid/comm" || break
    [ "$c" = "$comm" ] && break
    sleep 0.02
  done
  echo "$pid $comm $node" >>"$dir/pids"
  check
  cl_alive "$pid" "$comm" ||
    fail "$comm$([ "$node" = - ] || echo " on $node") did not start (see $out)"
}

# LINK_DELAY: the user-space switch, in the switch namespace (so cluster-down.sh finds it there
# too); it makes each node's eth0 and says so in its ready file.
if [ -n "$delay" ]; then
  run cc -std=c11 -O2 -Wall -o "$dir/run/linkdelay" "$here/linkdelay.c"
  ns_paths=()
  for ((i = 1; i <= nodes; i++)); do ns_paths+=("/run/netns/$CL_PREFIX-n$i"); done
  start linkdelay - nsenter --net="/run/netns/$CL_SW" "$dir/run/linkdelay" "$delay_ns" \
    "${rate_bps:-0}" "$dir/run/linkdelay.ready" "${ns_paths[@]}"
  for ((t = 0; t < 100; t++)); do
    [ -s "$dir/run/linkdelay.ready" ] && break
    cl_pid linkdelay - >/dev/null ||
      fail "linkdelay exited during start-up (see $dir/log/linkdelay.out)"
    sleep 0.05
  done
  [ -s "$dir/run/linkdelay.ready" ] || fail "linkdelay made no devices within 5 s"
fi
for ((i = 1; i <= nodes; i++)); do # each node's end of its link: address, up
  ns=$CL_PREFIX-n$i
  run ip -n "$ns" addr add "$CL_NET.$i/24" dev "$CL_IF"
  run ip -n "$ns" link set lo up
  run ip -n "$ns" link set "$CL_IF" up
  check
done

# Slurm variables of an enclosing job must not reach the daemons.
for v in $(compgen -v SLURM_); do unset "$v"; done

key=/etc/munge/munge.key
if [ ! -e "$key" ]; then
  echo "cluster-up: creating missing munge key $key"
  install -d -o munge -g munge -m 0700 /etc/munge
  (umask 077 && head -c 1024 /dev/urandom >"$key")
  chown munge:munge "$key"
  chmod 0400 "$key"
fi
start munged - setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
  "--socket=$sock" --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
  --log-file="$dir/log/munged.log" --key-file="$key"

# Node holders: a `sleep infinity` that keeps each node's UTS and mount namespace for the daemons
# and cluster-exec.sh. In its private mount namespace /tmp is DIR/nodes/nI/tmp, /dev/shm a fresh
# tmpfs, and /run/netns is unmounted (it would pin every network namespace existing now).
# shellcheck disable=SC2016 # expanded by the node's sh
holder_sh='set -e
awk '\''$5 ~ /^\/run\/netns(\/|$)/ { print $5 }'\'' /proc/self/mountinfo | sort -r |
  while read -r m; do umount -l "$m" 2>/dev/null || true; done
mount --bind "$1" /tmp
mount -t tmpfs -o nosuid,nodev,mode=1777 "$2-shm" /dev/shm
hostname "$2"
exec sleep infinity'
for ((i = 1; i <= nodes; i++)); do
  mkdir -p "$dir/nodes/n$i/tmp" "$dir/spool/n$i"
  chmod 1777 "$dir/nodes/n$i/tmp"
  start sleep "n$i" nsenter --net="/run/netns/$CL_PREFIX-n$i" unshare --uts --mount \
    --propagation private sh -c "$holder_sh" sh "$dir/nodes/n$i/tmp" "n$i"
done

# ---- slurm.conf (facts from docs/PLATFORM.md) ----------------------------------------------
first_job=$((1000 + (RANDOM * 32768 + RANDOM) % 5000000))
{
  cat <<EOF
# Written by scripts/cluster-up.sh for a private $nodes-node cluster in $dir; wiped at each start.
ClusterName=erc$nodes
SlurmctldHost=n1($CL_NET.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
TmpFS=/tmp
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
EnforcePartLimits=ALL
ReturnToService=2
MailProg=/bin/true
FirstJobId=$first_job
SlurmdTimeout=$slurmd_timeout
KillWait=2
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
EOF
  for ((i = 1; i <= nodes; i++)); do
    echo "NodeName=n$i NodeAddr=$CL_NET.$i CPUs=$cpus RealMemory=1000 State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=n[1-$nodes] Default=YES MaxTime=INFINITE State=UP"
} >"$conf"

# mpi/pmix: the default fence of a collect-less PMIx_Fence (Open MPI's barrier at the end of
# MPI_Init) is Slurm's tree algorithm, which here completes on each node without the others: a
# fast rank then leaves MPI_Init and sends to a rank still waiting for its modex, which crashes
# (SIGSEGV in btl/tcp, no PML handler yet). The ring algorithm is a real barrier.
echo "PMIxCollFence=ring" >"$dir/mpi.conf"

cat >"$dir/env.sh" <<EOF
# The environment of commands on the cluster in $dir (written by scripts/cluster-up.sh;
# scripts/cluster-exec.sh sources it). Slurm variables of an enclosing job are dropped; Open MPI
# is kept to the cluster's links (single-host settings such as OMPI_MCA_btl_tcp_if_include=lo
# would make ranks on different nodes wait for each other forever).
for _v in \$(compgen -v SLURM_); do unset "\$_v"; done; unset _v
export SLURM_CONF=$conf
export OMPI_MCA_btl_tcp_if_include=$CL_SUBNET OMPI_MCA_oob_tcp_if_include=$CL_SUBNET
EOF

holder1=$(cl_pid sleep n1)
start slurmctld n1 nsenter --target "$holder1" --net --uts --mount --wdns=/ \
  slurmctld -D -i -f "$conf"
for ((i = 1; i <= nodes; i++)); do
  h=$(cl_pid sleep "n$i")
  start slurmd "n$i" nsenter --target "$h" --net --uts --mount --wdns=/ slurmd -D -f "$conf"
done

# ---- wait until every node is idle -----------------------------------------------------------
deadline=$((${EPOCHREALTIME%.*} + 30))
idle=0
states=""
while :; do
  check
  cl_pid slurmctld n1 >/dev/null || fail "slurmctld exited during start-up"
  for ((i = 1; i <= nodes; i++)); do
    cl_pid slurmd "n$i" >/dev/null || fail "slurmd on n$i exited during start-up"
  done
  states=$(cl_exec n1 sinfo -h -N -o '%N %T' 2>/dev/null || true)
  idle=$(grep -c ' idle$' <<<"$states" || true)
  [ "$idle" -lt "$nodes" ] || break
  [ "${EPOCHREALTIME%.*}" -lt "$deadline" ] ||
    fail "$idle of $nodes nodes idle after 30 s; sinfo: $(tr '\n' ' ' <<<"$states")"
  sleep 0.2
done
trap - ERR INT TERM
shaping=""
[ -z "$rate$delay" ] || shaping=", links shaped:${rate:+ rate $rate}${delay:+ delay $delay}"
awk -v a="$t_start" -v b="$EPOCHREALTIME" -v n="$nodes" -v p="$CL_PREFIX" -v s="$shaping" \
  'BEGIN { printf "cluster-up: %d nodes idle after %.2f s (namespaces %s-*%s)\n", n, b - a, p, s }'
echo "cluster-up: run commands on a node: $here/cluster-exec.sh $dir n1 sinfo"
