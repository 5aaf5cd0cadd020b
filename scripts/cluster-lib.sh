# shellcheck shell=bash disable=SC2034 # the CL_* variables are for the sourcing scripts
# cluster-lib.sh: helpers shared by scripts/cluster-{up,down,exec,fail}.sh (a multi-node Slurm on
# one machine: one network + UTS + mount namespace per node). Sourced, never run: it only defines
# functions and variables, and it touches no namespace, link or process itself.
#
#   cl_init DIR           set CL_DIR (absolute), CL_PREFIX (namespace-name prefix unique to DIR),
#                         CL_SW (the switch namespace); the name is a hash of DIR's absolute path
#   cl_read_conf          read DIR/cluster.conf: CL_NODES; 1 if DIR holds no cluster
#   cl_alive PID COMM     PID runs COMM and is not a zombie (an unreaped zombie counts as dead)
#   cl_pid COMM NODE      the last recorded PID of COMM on NODE (- = root namespace) if alive
#   cl_ns_ids             "net:[INODE]" of the cluster's network namespaces (recorded or present)
#   cl_ns_procs [IDS]     "PID COMM" of live processes in those namespaces (or in IDS, one a line)
#   cl_munged             "PID munged" of live munged processes serving DIR's socket
#   cl_stop GRACE "PID COMM"...  TERM the live ones, KILL what is left after GRACE seconds
#   cl_exec NODE CMD...   run CMD in NODE's namespaces with the cluster's environment (env.sh)

CL_SUBNET=10.213.0.0/24 # addresses 10.213.0.I/24 on node nI's link, nowhere else
CL_NET=10.213.0
CL_IF=eth0              # the node end of its link, inside the node's namespace
CL_BR=br0               # the bridge, inside the switch namespace; node nI's port is sw-nI

cl_init() {
  CL_DIR=$(realpath -m "$1")
  local h
  h=$(printf '%s' "$CL_DIR" | sha256sum)
  CL_PREFIX=erc-${h:0:8}
  CL_SW=$CL_PREFIX-sw
}

cl_read_conf() {
  local k v
  CL_NODES=""
  [ -f "$CL_DIR/cluster.conf" ] || return 1
  while IFS='=' read -r k v; do
    case $k in nodes) CL_NODES=$v ;; esac
  done <"$CL_DIR/cluster.conf"
  [[ $CL_NODES =~ ^[1-9][0-9]*$ ]]
}

cl_alive() {
  local c st
  { read -r c <"/proc/$1/comm" && read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
  st=${st##*) }
  [ "$c" = "$2" ] && [ "${st%% *}" != Z ]
}

cl_pid() {
  local pid comm node found=""
  [ -f "$CL_DIR/pids" ] || return 1
  while read -r pid comm node; do
    [ "$comm" = "$1" ] && [ "$node" = "$2" ] && found=$pid
  done <"$CL_DIR/pids"
  [ -n "$found" ] && cl_alive "$found" "$1" && echo "$found"
}

cl_ns_ids() {
  local f name id
  {
    if [ -f "$CL_DIR/netns" ]; then
      while read -r name id; do echo "$id"; done <"$CL_DIR/netns"
    fi
    for f in /run/netns/"$CL_PREFIX"-*; do
      [ -e "$f" ] || continue
      id=$(stat -L -c %i "$f" 2>/dev/null) && echo "net:[$id]"
    done
  } | sort -u
}

cl_ns_procs() {
  local ids=${1-$(cl_ns_ids)} p l pid c
  [ -n "$ids" ] || return 0
  # one find for all processes: a readlink per process costs a fork each on a loaded machine
  find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null | while read -r p l; do
    grep -qxF "$l" <<<"$ids" || continue
    pid=${p#/proc/}
    pid=${pid%%/*}
    [ "$pid" != "$$" ] || continue
    read -r c 2>/dev/null <"/proc/$pid/comm" || continue
    if cl_alive "$pid" "$c"; then echo "$pid $c"; fi
  done || true
}

cl_munged() {
  local p pid c arg
  for p in /proc/[0-9]*; do
    read -r c 2>/dev/null <"$p/comm" || continue
    [ "$c" = munged ] || continue
    pid=${p#/proc/}
    while IFS= read -r -d '' arg; do
      if [ "$arg" = "--socket=$CL_DIR/munge/munge.socket.2" ]; then
        if cl_alive "$pid" munged; then echo "$pid munged"; fi
        break
      fi
    done <"$p/cmdline" 2>/dev/null || true
  done
}

cl_stop() {
  local grace=$1 e pid name left t phase i
  shift
  [ $# -gt 0 ] || return 0
  for e in "$@"; do
    read -r pid name <<<"$e"
    if cl_alive "$pid" "$name"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for phase in term kill; do # poll every 0.05 s: GRACE s after TERM, 2 s after KILL
    [ "$phase" = term ] && t=$((grace * 20)) || t=40
    for ((i = 0; i < t; i++)); do
      left=()
      for e in "$@"; do
        read -r pid name <<<"$e"
        if cl_alive "$pid" "$name"; then left+=("$e"); fi
      done
      [ ${#left[@]} -gt 0 ] || return 0
      sleep 0.05
    done
    [ "$phase" = kill ] && break
    for e in "${left[@]}"; do
      read -r pid name <<<"$e"
      if cl_alive "$pid" "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
  done
  echo "cluster: still running after SIGKILL: ${left[*]}" >&2
  return 1
}

cl_exec() {
  local node=$1 holder
  shift
  holder=$(cl_pid sleep "$node") || { echo "cluster: node $node is not running" >&2; return 1; }
  (
    # shellcheck disable=SC1091
    . "$CL_DIR/env.sh"
    exec nsenter --target "$holder" --net --uts --mount --wdns=/ -- "$@"
  )
}
