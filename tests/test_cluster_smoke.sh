#!/usr/bin/env bash
# test_cluster_smoke.sh: a 3-node Slurm in network namespaces (scripts/cluster-up.sh) starts with
# one hostname and address per node, `srun -N 3` reaches three hosts, a 3-rank erase-mpi train on
# Cora runs across the nodes with Open MPI over TCP on the cluster's links (each node's veth byte
# counters grow by at least a fraction of the Gram allreduce volume), a node can be crashed and
# restored, and cluster-down.sh leaves no namespace or process behind. It does not check training
# results (test_train_ranks.sh does). Skips (77) without root, `ip netns`, Slurm or Cora.
# With ER_CLUSTER_LINK_DELAY (e.g. 1ms; ctest cluster_smoke_delay) the links are cluster-up.sh's
# user-space switch (LINK_DELAY) at ER_CLUSTER_LINK_RATE, and it also measures, between n1 and n2,
# a TCP round trip (4 link crossings: at least 4 x the delay, at most 3 ms more) and a 10 MB
# transfer (no faster than the rate, at least 60 % of it); before that, a switch that fails at
# start-up must make cluster-up.sh fail with the switch's reason and leave nothing running.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${ER_SOURCE_DIR:-$here/..}
scripts=$root/scripts

t_test=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok [$(elapsed "$t_test") s]: $*"; }
measure() { echo "measure: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "the namespace cluster needs root"
for c in ip nsenter unshare tc slurmctld slurmd munged srun sinfo; do
  command -v "$c" >/dev/null || skip "'$c' is not installed (scripts/install-deps.sh)"
done
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
[ -f "${ER_CORA_DIR:-}/graph.edges" ] || skip "Cora not found (ER_CORA_DIR)"
: "${ERASE_BIN:?ERASE_BIN must name the erase-mpi binary}"
[ -x "$ERASE_BIN" ] || fail "ERASE_BIN '$ERASE_BIN' is not executable"
case "$(realpath "$ERASE_BIN") $(realpath "$root")" in
  /tmp/* | *" /tmp/"*) skip "the build or the source is under /tmp, node-local on the cluster" ;;
esac
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1

# The cluster's shared directory must not be under /tmp (node-local on the cluster).
dir=$(mktemp -d /var/tmp/er-cluster.XXXXXX)
prefix=""
on() { "$scripts/cluster-exec.sh" "$dir" "$@"; }
# counters NODE: "RX TX" bytes of the node's link, read in its namespace (ip netns exec mounts
# that namespace's sysfs for the one command)
counters() {
  # shellcheck disable=SC2016 # expanded by the inner sh
  ip netns exec "$prefix-$1" sh -c \
    'cd /sys/class/net/eth0/statistics && echo $(cat rx_bytes tx_bytes)'
}
# leftovers: namespaces named after DIR, processes in the cluster's namespaces, live recorded PIDs
leftovers() {
  local found=0 pid comm node ids p l c st
  if compgen -G "/run/netns/$prefix-*" >/dev/null; then
    echo "left: namespaces $(cd /run/netns && echo "$prefix"-*)"
    found=1
  fi
  ids=$(awk '{ print $2 }' "$dir/netns")
  while read -r p l; do
    grep -qxF "$l" <<<"$ids" || continue
    p=${p#/proc/}
    echo "left: process ${p%%/*} ($(cat "/proc/${p%%/*}/comm" 2>/dev/null)) in a cluster namespace"
    found=1
  done < <(find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null || true)
  while read -r pid comm node; do
    { read -r c <"/proc/$pid/comm" && read -r st <"/proc/$pid/stat"; } 2>/dev/null || continue
    st=${st##*) }
    if [ "$c" = "$comm" ] && [ "${st%% *}" != Z ]; then
      echo "left: $comm ($pid) of $node"
      found=1
    fi
  done <"$dir/pids"
  return $found
}
at_exit() {
  local rc=$? f
  "$scripts/cluster-down.sh" "$dir" || rc=1
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    for f in "$dir"/log/*; do
      [ -s "$f" ] || continue
      echo "----- $f (last 15 lines)"
      tail -n 15 "$f"
    done
  fi
  [ -n "${ER_CLUSTER_KEEP:-}" ] || rm -rf "$dir"
  exit "$rc"
}
trap at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- bad knobs: one line, non-zero, nothing made -------------------------------------------
for bad in "LINK_DELAY=20" "LINK_DELAY=-1ms" "LINK_RATE=fast" "LINK_DELAY=20usec"; do
  out=$(env $bad "$scripts/cluster-up.sh" "$dir" 3 2>&1) && fail "cluster-up.sh accepted $bad"
  [ "$(wc -l <<<"$out")" -eq 1 ] && [[ $out == cluster-up:* ]] ||
    fail "cluster-up.sh with $bad: expected one 'cluster-up: ...' line, got: $out"
  [ ! -e "$dir/cluster.conf" ] || fail "cluster-up.sh with $bad left $dir/cluster.conf"
done
ok "cluster-up.sh refuses malformed LINK_DELAY / LINK_RATE with one line, before making anything"

# ---- the user-space switch failing at start-up (its queue knob unreadable): cluster-up.sh says
# so, shows the switch's log and takes down what it made: no namespace, no process, no env.sh -
if [ -n "${ER_CLUSTER_LINK_DELAY-}" ]; then
  ns_before=$(ip netns list | sort)
  out=$(LINKDELAY_QUEUE_NS=soon LINK_DELAY=$ER_CLUSTER_LINK_DELAY "$scripts/cluster-up.sh" \
    "$dir" 2 2>&1) && fail "cluster-up.sh went on although its switch could not start"
  grep -Eq "^cluster-up: linkdelay (exited during start-up|did not start)" <<<"$out" ||
    fail "cluster-up.sh with a failing switch: no 'linkdelay ... start' line in: $out"
  grep -q "queue must be a non-negative integer, got 'soon'" <<<"$out" ||
    fail "cluster-up.sh did not show the switch's own reason: $out"
  [ "$(ip netns list | sort)" = "$ns_before" ] ||
    fail "a failed cluster-up.sh left namespaces: $(ip netns list | tr '\n' ' ')"
  ! pgrep -x linkdelay >/dev/null || fail "a failed cluster-up.sh left a linkdelay running"
  [ ! -e "$dir/env.sh" ] || fail "a failed cluster-up.sh left $dir/env.sh (the clients' entry)"
  ok "cluster-up.sh whose switch fails at start-up: the reason, non-zero, nothing left running"
fi

# ---- up: 3 nodes, links limited to 10 Gbit/s (exercises the shaping; not a bottleneck here) ---
rate=${ER_CLUSTER_LINK_RATE-10gbit}
delay=${ER_CLUSTER_LINK_DELAY-}
t0=$EPOCHREALTIME
LINK_RATE=$rate LINK_DELAY=$delay "$scripts/cluster-up.sh" "$dir" 3 || fail "cluster-up.sh failed"
measure "cluster-up (namespaces, links, munged, slurmctld, 3 slurmd, to idle) $(elapsed "$t0") s"
prefix=$(sed -n 's/^prefix=//p' "$dir/cluster.conf")
[ -n "$prefix" ] || fail "no prefix in $dir/cluster.conf"

for i in 1 2 3; do
  h=$(on "n$i" hostname) || fail "cluster-exec on n$i failed"
  [ "$h" = "n$i" ] || fail "node n$i says its hostname is '$h'"
  a=$(ip -n "$prefix-n$i" -o -4 addr show dev eth0 | awk '{ print $4 }')
  [ "$a" = "10.213.0.$i/24" ] || fail "n$i's eth0 has '$a', expected 10.213.0.$i/24"
  if [ -n "$delay" ]; then
    ip -d -n "$prefix-n$i" link show dev eth0 | grep -q 'tun type tap' ||
      fail "n$i's eth0 is not linkdelay's tap: $(ip -d -n "$prefix-n$i" link show dev eth0)"
  elif [ -n "$rate" ]; then
    tc -n "$prefix-n$i" qdisc show dev eth0 | grep -q '^qdisc tbf ' ||
      fail "n$i's eth0 has no tbf: $(tc -n "$prefix-n$i" qdisc show dev eth0)"
    tc -n "$prefix-sw" qdisc show dev "sw-n$i" | grep -q '^qdisc tbf ' ||
      fail "switch port sw-n$i has no tbf: $(tc -n "$prefix-sw" qdisc show dev "sw-n$i")"
  fi
done
if ip -o addr show | grep -q ' 10\.213\.'; then fail "a 10.213 address is in the root namespace"; fi
ok "3 nodes n1..n3: own hostnames, 10.213.0.1-3 on their links only${rate:+, links shaped to $rate}${delay:+, delay $delay}"

out=$(on n1 srun -N 3 --mpi=pmix hostname 2>&1) || fail "srun -N 3 hostname: $out"
hosts=$(sort -u <<<"$out" | tr '\n' ' ')
[ "$hosts" = "n1 n2 n3 " ] || fail "srun -N 3 hostname reported '$hosts', expected n1 n2 n3"
ok "srun -N 3 --mpi=pmix hostname: $hosts"

# ---- with a delay: round trip and rate between n1 and n2, measured over TCP -------------------
if [ -n "$delay" ]; then
  to_s() { # to_s 1ms|200us|10mbit...: seconds, or bytes per second for a rate
    awk -v v="$1" 'BEGIN { n = v + 0; u = substr(v, length(n "") + 1)
      f["us"] = 1e-6; f["ms"] = 1e-3; f["s"] = 1; f["kbit"] = 125; f["mbit"] = 125e3
      f["gbit"] = 125e6; f["bps"] = 1; f["kbps"] = 1e3; f["mbps"] = 1e6; f["gbps"] = 1e9
      if (!(u in f)) exit 1; printf "%.9g", n * f[u] }'
  }
  d_s=$(to_s "$delay") || fail "cannot read ER_CLUSTER_LINK_DELAY '$delay'"
  r_Bps=$(to_s "${rate:-0bps}") || fail "cannot read ER_CLUSTER_LINK_RATE '$rate'"
  # shellcheck disable=SC2016
  on n2 timeout 60 /usr/bin/python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.213.0.2", 5201)); s.listen(1); c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    d = c.recv(1 << 20)
    if not d: break
    if d == b"p" or d.endswith(b"E"): c.sendall(b"k")' &
  sleep 0.5
  # shellcheck disable=SC2016
  out=$(on n1 timeout 60 /usr/bin/python3 -c '
import socket, statistics, time
c = socket.create_connection(("10.213.0.2", 5201)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
r = []
for i in range(20):
    t = time.perf_counter(); c.sendall(b"p"); c.recv(1); r.append(time.perf_counter() - t)
b = b"x" * (10_000_000 - 1) + b"E"
t = time.perf_counter(); c.sendall(b); c.recv(1); x = time.perf_counter() - t
print(statistics.median(r), x)') || fail "the TCP probe between n1 and n2 failed: $out"
  wait || true
  read -r rtt xfer <<<"$out"
  measure "n1 <-> n2 over linkdelay ($delay per link, rate ${rate:-none}): round trip" \
    "$(awk -v r="$rtt" 'BEGIN { printf "%.3f ms", r * 1e3 }'), 10 MB in $xfer s"
  awk -v r="$rtt" -v d="$d_s" 'BEGIN { exit !(r >= 4 * d && r <= 4 * d + 0.003) }' ||
    fail "round trip $rtt s, expected 4 x $d_s s (+ at most 3 ms)"
  if [ -n "$rate" ]; then
    awk -v x="$xfer" -v b="$r_Bps" 'BEGIN { i = 1e7 / b; exit !(x >= 0.97 * i && x <= i / 0.6) }' ||
      fail "10 MB took $xfer s at $rate, expected between the rate's $(awk -v b="$r_Bps" \
        'BEGIN { print 1e7 / b }') s and that / 0.6"
  fi
  ok "linkdelay: round trip $(awk -v r="$rtt" 'BEGIN { printf "%.2f", r * 1e3 }') ms" \
    "(4 x $delay), 10 MB in $xfer s${rate:+ at $rate}"
fi

# ---- a 3-rank training across the nodes, measured on the links -------------------------------
mkdir -p "$dir/work"
cd "$dir/work"
"$ERASE_BIN" import --dir "$ER_CORA_DIR" --out cora.h5 >/dev/null || fail "import of Cora failed"
declare -A rx0 tx0
for i in 1 2 3; do read -r "rx0[$i]" "tx0[$i]" < <(counters "n$i"); done
epochs=3
t0=$EPOCHREALTIME
out=$(on n1 timeout 100 srun -N 3 -n 3 --mpi=pmix --kill-on-bad-exit=1 "$ERASE_BIN" train \
  --data cora.h5 --epochs $epochs 2>&1) || fail "3-rank train across 3 nodes failed: $out"
t_train=$(elapsed "$t0")
grep -q ' K=7 on 3 ranks' <<<"$out" || fail "train header lacks 'K=7 on 3 ranks': $out"
grep -q '^summary: test accuracy' <<<"$out" || fail "train printed no summary: $out"
# Each epoch allreduces K+1 = 8 Gram matrices of 512x512 doubles (16.8 MB): any allreduce makes
# every rank send and receive at least (P-1)/P of that. Require a quarter of it per direction.
min=$((epochs * 8 * 512 * 512 * 8 * 2 / 3 / 4))
line=""
for i in 1 2 3; do
  read -r rx tx < <(counters "n$i")
  drx=$((rx - rx0[$i]))
  dtx=$((tx - tx0[$i]))
  line+=" n$i rx $((drx / 1000000)) MB tx $((dtx / 1000000)) MB;"
  [ "$drx" -ge "$min" ] && [ "$dtx" -ge "$min" ] ||
    fail "n$i's link carried rx $drx / tx $dtx bytes during the train, expected >= $min each"
done
measure "3-rank train ($epochs epochs) $t_train s; link bytes during it:$line"
ok "srun -N 3 -n 3 erase-mpi train over TCP between nodes (>= $((min / 1000000)) MB each way)"

# ---- a node crashes and comes back -------------------------------------------------------------
out=$("$scripts/cluster-fail.sh" "$dir" n3) || fail "cluster-fail.sh n3: $out"
grep -q 'slurmd' <<<"$out" || fail "cluster-fail.sh n3 did not kill slurmd: $out"
"$scripts/cluster-fail.sh" "$dir" n3 --restore >/dev/null || fail "cluster-fail.sh --restore failed"
state=""
for ((k = 0; k < 100; k++)); do
  state=$(on n1 sinfo -h -N -n n3 -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.1
done
[ "$state" = idle ] || fail "n3 is '$state' 10 s after --restore, expected idle"
ok "cluster-fail.sh: n3 crashed (slurmd killed) and restored to idle"

# ---- down: nothing left; a second down is a no-op ---------------------------------------------
cd /
t0=$EPOCHREALTIME
"$scripts/cluster-down.sh" "$dir" || fail "cluster-down.sh reported an error"
measure "cluster-down $(elapsed "$t0") s"
leftovers || fail "something was left after cluster-down.sh"
"$scripts/cluster-down.sh" "$dir" || fail "a second cluster-down.sh failed"
ok "cluster-down.sh: no namespace $prefix-*, no process of the cluster left"
echo "PASS"
