#!/usr/bin/env bash
# test_cluster_jobs.sh: jobs/*.sbatch, unmodified, on a 3-node Slurm in network namespaces
# (scripts/cluster-up.sh). prepare.sbatch imports Cora and stores partitions; train.sbatch runs on
# 1, 2 and 3 nodes (one rank per node) and on 3 nodes with two ranks each, every rank on the host
# Slurm gave it (the JSON log's "hosts"), the losses equal to a 1-rank run on this host within
# the rank-consistency tolerance (first epoch 1e-6, any epoch 5e-4 relative). Then a node dies in
# epoch 5 of a 3-node job (checkpoints every 2 epochs): every other rank is gone within 60 s, the
# job fails, and the same command resubmitted resumes from the epoch-4 checkpoint to the
# uninterrupted 3-node run's losses bitwise. The same checkpoint resumed by train.sbatch on 2
# nodes (a lost node) matches the 3-node resume within 1e-6 at its first epoch and 5e-4 after.
# Skips (77) without root, `ip netns`, Slurm or Cora.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${ER_SOURCE_DIR:-$here/..}
scripts=$root/scripts
jobs=$root/jobs

t_test=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok [$(elapsed "$t_test") s]: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "the namespace cluster needs root"
for c in ip nsenter unshare tc slurmctld slurmd munged srun sbatch sinfo; do
  command -v "$c" >/dev/null || skip "'$c' is not installed (scripts/install-deps.sh)"
done
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
[ -f "${ER_CORA_DIR:-}/graph.edges" ] || skip "Cora not found (ER_CORA_DIR)"
: "${ERASE_BIN:?ERASE_BIN must name the erase-mpi binary}" "${MPIEXEC:?}"
ERASE_BIN=$(realpath "$ERASE_BIN")
case "$(realpath "$ERASE_BIN") $(realpath "$root")" in
  /tmp/* | *" /tmp/"*) skip "the build or the source is under /tmp, node-local on the cluster" ;;
esac
export ERASE_BIN OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
unset ERASE_STALL ERASE_FAULT

dir=$(mktemp -d /var/tmp/er-cljobs.XXXXXX) # shared by the nodes: not under /tmp
on() { "$scripts/cluster-exec.sh" "$dir" "$@"; }
at_exit() {
  local rc=$? f
  "$scripts/cluster-down.sh" "$dir" >/dev/null || rc=1
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    for f in "$dir"/work/*.out "$dir"/log/slurmctld*; do
      [ -s "$f" ] || continue
      echo "----- $f (last 20 lines)"
      tail -n 20 "$f"
    done
  fi
  [ -n "${ER_CLUSTER_KEEP:-}" ] || rm -rf "$dir"
  exit "$rc"
}
trap at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# slurmctld declares a silent node DOWN after SlurmdTimeout (10 s here); it then ends the job
up=$(SLURMD_TIMEOUT=10 "$scripts/cluster-up.sh" "$dir" 3 2>&1) || fail "cluster-up.sh: $up"
ok "3-node cluster up"
mkdir -p "$dir/work"
cd "$dir/work"

# job NAME SBATCH-ARGS... : submit with --wait from n1 with the knobs in the environment; the
# job's exit status is returned and its output is NAME.out
job() {
  local name=$1
  shift
  on n1 sbatch --wait --output="$name.out" --job-name="$name" "$@" >/dev/null 2>"$name.sbatch.err"
}
# losses LOG: "run epoch loss" per epoch line of a JSON log
losses() { /usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if "epoch" in o: print(o["run"], o["epoch"], repr(o["loss"]))' "$1"; }
# close A B FIRST ANY [FROM]: the losses of logs A and B over their common epochs (from FROM on)
# agree within FIRST relative at the first common epoch and ANY at every one
close() { /usr/bin/python3 - "$@" <<'EOF'
import json, sys
def read(p):
    return {(o["run"], o["epoch"]): o["loss"] for o in map(json.loads, open(p)) if "epoch" in o}
a, b = read(sys.argv[1]), read(sys.argv[2])
first, anyb = float(sys.argv[3]), float(sys.argv[4])
start = int(sys.argv[5]) if len(sys.argv) > 5 else 0
keys = sorted(k for k in a.keys() & b.keys() if k[1] > start)
if not keys: sys.exit("no common epochs")
rel = [abs(a[k] - b[k]) / max(abs(b[k]), 1e-30) for k in keys]
print(f"{len(keys)} epochs: first {rel[0]:.1e} (bound {first:g}), worst {max(rel):.1e} "
      f"(bound {anyb:g})")
sys.exit(0 if rel[0] <= first and max(rel) <= anyb else 1)
EOF
}
hosts() { /usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if "hosts" in o: print(" ".join(o["hosts"])); break' "$1"; }

# ---- prepare.sbatch: Cora with partitions for 2, 3 and 6 ranks ---------------------------------
IMPORT_DIR=$ER_CORA_DIR OUT=cora.h5 PARTS="2 3 6" job prepare -N 1 -n 2 "$jobs/prepare.sbatch" ||
  fail "prepare.sbatch failed: $(tail -3 prepare.out)"
ok "prepare.sbatch: cora.h5 with partitions 2 3 6"

export EPOCHS=8 CKPT_EVERY=2 NOISE=asymm EXTRA_ARGS="--hidden 32 --heads 4 --embed 64"
"$MPIEXEC" -n 1 "$ERASE_BIN" train --data cora.h5 --epochs $EPOCHS --noise asymm --quiet 1 \
  $EXTRA_ARGS --log-json local1.jsonl >/dev/null 2>&1 || fail "the 1-rank run on this host failed"

# ---- train.sbatch on 1, 2, 3 nodes and 3 x 2 ranks ---------------------------------------------
for spec in "1 1" "2 2" "3 3" "3 6"; do
  read -r N n <<<"$spec"
  name=train-N$N-n$n
  OUT=$name.h5 DATA=cora.h5 job "$name" -N "$N" -n "$n" "$jobs/train.sbatch" ||
    fail "train.sbatch -N $N -n $n failed: $(tail -3 "$name.out")"
  h=$(hosts "$name.log.json")
  want=$(for ((r = 0; r < n; r++)); do echo "n$((r * N / n + 1))"; done | tr '\n' ' ')
  [ "$h " = "$want" ] || fail "-N $N -n $n: ranks on hosts '$h', expected '$want'"
  c=$(close "$name.log.json" local1.jsonl 1e-6 5e-4) ||
    fail "-N $N -n $n: losses differ from the 1-rank run beyond tolerance: $c"
  ok "train.sbatch -N $N -n $n: ranks on $h; against 1 rank here: $c"
done
cp train-N3-n3.log.json uninterrupted3.json

# ---- a node dies in epoch 5 of a 3-node job ---------------------------------------------------
# ERASE_STALL holds rank 1 (on n2) in epoch 5, after the epoch-4 checkpoint; n2 is then crashed.
ERASE_STALL=epoch:5 OUT=dies.h5 DATA=cora.h5 \
  on n1 sbatch --no-requeue --output=dies.out -N 3 -n 3 "$jobs/train.sbatch" >/dev/null
for ((k = 0; k < 600; k++)); do
  grep -q 'stalled at epoch' dies.out 2>/dev/null && break
  sleep 0.1
done
grep -q 'stalled at epoch' dies.out || fail "the job never reached epoch 5: $(tail -3 dies.out)"
step=$(pgrep -f "erase-mpi train --data $dir/work/cora.h5" | tr '\n' ' ')
t0=$EPOCHREALTIME
"$scripts/cluster-fail.sh" "$dir" n2 >/dev/null || fail "cluster-fail.sh n2"
gone=""
for ((k = 0; k < 600; k++)); do
  left=0
  for p in $step; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
  [ $left -eq 0 ] && { gone=$(elapsed "$t0"); break; }
  sleep 0.1
done
[ -n "$gone" ] || fail "ranks of the failed job still running 60 s after n2 died"
ok "n2 crashed in epoch 5: every rank of the job gone after $gone s"
"$scripts/cluster-fail.sh" "$dir" n2 --restore >/dev/null || fail "cluster-fail.sh --restore"
st=""
for ((k = 0; k < 300; k++)); do
  st="$(on n1 squeue -h -o %i 2>/dev/null | wc -l) $(on n1 sinfo -h -N -n n2 -o %T 2>/dev/null)"
  [ "$st" = "0 idle" ] && break
  sleep 0.2
done
[ "$st" = "0 idle" ] || fail "60 s after --restore: jobs left and n2's state: '$st'"
[ -f dies.ckpt.h5 ] || fail "no checkpoint left after the crash"
ep=$(h5dump -a /epoch dies.ckpt.h5 2>/dev/null | sed -n 's/.*(0): //p' | head -1)
[ "$ep" = 4 ] || fail "the checkpoint left is of epoch '$ep', expected 4"
cp dies.ckpt.h5 saved.ckpt.h5
[ ! -e dies.h5 ] || fail "dies.h5 exists after the crash"

# the same command again (no ERASE_STALL): resumes at 3 ranks, bitwise the uninterrupted run
OUT=dies.h5 DATA=cora.h5 job dies-again -N 3 -n 3 "$jobs/train.sbatch" ||
  fail "the resubmitted job failed: $(tail -3 dies-again.out)"
grep -q 'resuming from checkpoint' dies-again.out || fail "the resubmitted job did not resume"
cmp -s <(losses dies.log.json) <(losses uninterrupted3.json) ||
  fail "the resumed 3-node losses differ from the uninterrupted run's"
ok "resubmitted on 3 nodes: resumed from epoch 4 to the uninterrupted run's losses bitwise"

# ---- elastic: the same checkpoint resumed by train.sbatch on 2 nodes ---------------------------
cp saved.ckpt.h5 two.ckpt.h5
OUT=two.h5 DATA=cora.h5 job two -N 2 -n 2 "$jobs/train.sbatch" ||
  fail "the 2-node resume failed: $(tail -3 two.out)"
grep -q 'resuming from checkpoint' two.out || fail "the 2-node job did not resume"
c=$(close two.log.json dies.log.json 1e-6 5e-4 4) ||
  fail "3 -> 2 ranks: the resumed losses differ beyond tolerance: $c"
ok "3 -> 2 nodes: train.sbatch resumed the 3-rank checkpoint on 2 nodes: $c"
echo "PASS"
