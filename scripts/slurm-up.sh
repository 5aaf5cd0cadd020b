#!/usr/bin/env bash
# slurm-up.sh: start a private single-node Slurm (munged, slurmctld, slurmd) whose config, state,
# logs, sockets and PIDs all live under DIR; clients use it after `. DIR/env.sh`.
# It does not touch system daemons or /etc (except creating the munge key if none exists).
# Usage: scripts/slurm-up.sh DIR      (as root; stop with scripts/slurm-down.sh DIR)
set -euo pipefail
set +m # no job control: setsid then execs in place, so $! is the daemon's own PID

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "slurm-up: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: slurm-up.sh DIR"
[ "$(id -u)" -eq 0 ] || die "must run as root (SlurmUser=root; munged is started as user munge)"
for c in slurmctld slurmd munged sinfo setpriv setsid ss; do
  command -v "$c" >/dev/null || die "'$c' not found (scripts/install-deps.sh installs Slurm)"
done
id munge >/dev/null 2>&1 || die "user 'munge' does not exist (is the munge package installed?)"

dir=$(realpath -m "$1")
# DIR is wiped: only an empty or missing directory, or one of an earlier slurm-up.sh run.
if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/pids" ]; then
  die "refusing to wipe '$dir': not empty and not made by slurm-up.sh"
fi
# Unix socket paths (munge socket, slurmstepd sockets in the spool dir) must stay < 108 bytes.
[ ${#dir} -le 64 ] || die "DIR path too long (${#dir} > 64 characters): '$dir'"

# A cluster still running from this DIR is stopped first; anything else is left alone.
"$here/slurm-down.sh" "$dir" >/dev/null
rm -rf "$dir"
mkdir -p "$dir"/{state,spool,log,run,tmp,munge}
chmod 0755 "$dir" # munged checks that every directory above its socket is world-executable
chown munge:munge "$dir/munge"
: >"$dir/pids"

host=$(hostname -s)
conf=$dir/slurm.conf
sock=$dir/munge/munge.socket.2
t_start=$(date +%s.%N)

# start NAME CMD...: setsid CMD in the background, logs in DIR/log/NAME.out, PID in DIR/pids
# once /proc/PID/comm shows NAME (setpriv and setsid exec in place, so the PID is kept).
start() {
  local name=$1; shift
  setsid "$@" </dev/null >"$dir/log/$name.out" 2>&1 &
  local pid=$! i c
  for ((i = 0; i < 100; i++)); do
    read -r c 2>/dev/null <"/proc/$pid/comm" || break
    [ "$c" = "$name" ] && break
    sleep 0.02
  done
  echo "$pid $name" >>"$dir/pids"
  check
}

# fail MSG: print the logs, stop what we started, exit non-zero.
fail() {
  trap - ERR INT TERM
  echo "slurm-up: $*" >&2
  local d f
  for d in munged slurmctld slurmd; do # the log file if the daemon opened it, else its stderr
    f=$dir/log/$d.log
    [ -s "$f" ] || f=$dir/log/$d.out
    [ -s "$f" ] || continue
    echo "----- $f (last 30 lines)" >&2
    tail -n 30 "$f" >&2
  done
  "$here/slurm-down.sh" "$dir" >&2 || true
  exit 1
}

trap 'fail "unexpected error (line $LINENO)"' ERR
# A signal only sets a flag: checked after each start, so no PID is lost between fork and record.
interrupted=""
trap 'interrupted=1' INT TERM
check() { [ -z "$interrupted" ] || fail "interrupted"; }

# ---- munge: private socket under DIR, the system key -----------------------------------
key=/etc/munge/munge.key
if [ ! -e "$key" ]; then
  echo "slurm-up: creating missing munge key $key"
  install -d -o munge -g munge -m 0700 /etc/munge
  (umask 077 && head -c 1024 /dev/urandom >"$key")
  chown munge:munge "$key"
  chmod 0400 "$key"
fi
start munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
  --socket="$sock" --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
  --log-file="$dir/log/munged.log" --key-file="$key"
for ((i = 0; i < 250; i++)); do check; [ -S "$sock" ] && break; sleep 0.02; done
[ -S "$sock" ] || fail "munged did not create $sock within 5 s"

# ---- ports: a free pair, random per instance, below the ephemeral range --------------------
port_free() { [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]; }
ctl_port=""
for ((i = 0; i < 50; i++)); do
  p=$((20000 + (RANDOM * 32768 + RANDOM + $$) % 6000 * 2))
  if port_free "$p" && port_free $((p + 1)); then ctl_port=$p; break; fi
done
[ -n "$ctl_port" ] || fail "no free port pair found"
d_port=$((ctl_port + 1))
# Distinct job ids per instance: Open MPI/PMIx derive per-job names in /tmp from the job id.
first_job=$((1000 + (RANDOM * 32768 + RANDOM) % 5000000))

# ---- slurm.conf (facts from docs/PLATFORM.md) --------------------------------------------
cat >"$conf" <<EOF
# Written by scripts/slurm-up.sh for a private single-node test cluster; wiped at each start.
ClusterName=erase$ctl_port
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
TmpFS=$dir/tmp
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
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
# scancel / time limit: SIGKILL follows SIGTERM after 2 s instead of 30 s.
KillWait=2
# Batch jobs start at once (the default batch_sched_delay=3 holds them ~3 s in PENDING).
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=4 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

unset SLURM_CONF
start slurmctld slurmctld -D -i -f "$conf"
start slurmd slurmd -D -f "$conf" -N "$host"

cat >"$dir/env.sh" <<EOF
# Source this to use the private cluster in $dir (written by scripts/slurm-up.sh).
# Every SLURM_* variable is dropped first: those of an enclosing Slurm job (SLURM_JOB_ID,
# SLURM_NTASKS, ...) would redirect or reshape srun/sbatch here.
for _v in \$(compgen -v SLURM_); do unset "\$_v"; done; unset _v
export SLURM_CONF=$conf
EOF

# ---- wait until the node is idle ----------------------------------------------------------
alive() { # alive NAME: the recorded daemon NAME runs and is not a zombie (builtins only)
  local pid name c st
  while read -r pid name; do
    [ "$name" = "$1" ] || continue
    { read -r c <"/proc/$pid/comm" && read -r st <"/proc/$pid/stat"; } 2>/dev/null || return 1
    st=${st##*) }
    [ "$c" = "$name" ] && [ "${st%% *}" != Z ]
    return
  done <"$dir/pids"
  return 1
}
state=""
deadline=$(($(date +%s) + 30))
while :; do
  check
  for d in munged slurmctld slurmd; do alive "$d" || fail "$d exited during start-up"; done
  state=$(SLURM_CONF=$conf sinfo -h -N -n "$host" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "node not idle after 30 s (sinfo state: '$state')"
  sleep 0.1
done
t_up=$(date +%s.%N)
trap - ERR INT TERM
awk -v a="$t_start" -v b="$t_up" -v h="$host" -v c="$ctl_port" -v d="$d_port" -v s="$dir" \
  'BEGIN { printf "slurm-up: node %s idle after %.2f s (ports %s/%s, state in %s)\n", h, b - a, c, d, s }'
echo "slurm-up: clients: . $dir/env.sh"
