#!/usr/bin/env bash
# test_slurm_smoke.sh: a private Slurm starts, runs erase-mpi under srun --mpi=pmix and sbatch,
# reports COMPLETED/FAILED correctly, delivers scancel signals and stops without leftovers.
# It does not test erase-mpi's commands themselves (jobs/*.sbatch tests do); skips without Slurm.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/slurm_lib.sh
. "$here/slurm_lib.sh"
slurm_require
: "${ERASE_BIN:?ERASE_BIN must name the erase-mpi binary}"
[ -x "$ERASE_BIN" ] || { echo "FAIL: ERASE_BIN '$ERASE_BIN' is not executable"; exit 1; }
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1

t_test=$EPOCHREALTIME
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok [$(slurm_elapsed "$t_test") s]: $*"; }
measure() { echo "measure: $*"; }

slurm_start
measure "slurm-up (munged+slurmctld+slurmd to idle node) $ER_SLURM_UP_SECONDS s"
work=$ER_SLURM_TEST_DIR/work
mkdir "$work"
cd "$work"

# ---- srun: 2 ranks through PMIx, only rank 0 prints the version -----------------------------
out=$(srun --mpi=pmix -n 2 --label "$ERASE_BIN" --version 2>&1) || fail "srun --version: $out"
[ "$(grep -c 'erase-mpi ' <<<"$out")" -eq 1 ] && grep -qE '^0: erase-mpi [0-9]' <<<"$out" ||
  fail "expected one '0: erase-mpi VERSION' line from srun, got: $out"
ok "srun --mpi=pmix -n 2 erase-mpi --version"

# ---- sbatch: a 2-task job that succeeds and one that fails, side by side -------------------
cat >help.sbatch <<'EOF'
#!/bin/bash
#SBATCH --ntasks=2                 # two MPI ranks
#SBATCH --output=help-%j.out       # stdout+stderr, in the submit directory
set -euo pipefail
echo "job $SLURM_JOB_ID with $SLURM_NTASKS tasks"
srun --mpi=pmix --label "$ERASE_BIN" --help
EOF
cat >bogus.sbatch <<'EOF'
#!/bin/bash
#SBATCH --ntasks=2                 # two MPI ranks
#SBATCH --output=bogus-%j.out      # stdout+stderr, in the submit directory
set -euo pipefail
srun --mpi=pmix "$ERASE_BIN" bogus-command
echo "not reached"
EOF
t0=$EPOCHREALTIME
ok_id=$(slurm_submit help.sbatch)
bad_id=$(slurm_submit bogus.sbatch)
slurm_expect "$ok_id" COMPLETED 30 || fail "help job $ok_id did not complete"
measure "first job after start: sbatch to COMPLETED $(slurm_elapsed "$t0") s (includes the" \
  "scheduler's first pass ~3 s after slurmctld starts)"
slurm_expect "$bad_id" FAILED 30 || fail "bogus job $bad_id did not end FAILED"

out=$(cat "help-$ok_id.out")
[ "$(slurm_job_field "$ok_id" ExitCode)" = 0:0 ] || fail "help job ExitCode not 0:0"
grep -q "^job $ok_id with 2 tasks$" <<<"$out" || fail "help job header missing: $out"
[ "$(grep -c 'usage:' <<<"$out")" -eq 1 ] && grep -q '^0: usage:' <<<"$out" &&
  grep -q '^0: commands:' <<<"$out" || fail "help job: expected rank 0's usage once, got: $out"
ok "sbatch 2-task --help job COMPLETED"

out=$(cat "bogus-$bad_id.out")
grep -q "unknown command 'bogus-command'" <<<"$out" || fail "bogus job output lacks the error: $out"
! grep -q "not reached" <<<"$out" || fail "bogus job script went on after the failed srun"
[ "$(slurm_job_field "$bad_id" ExitCode)" = 1:0 ] || fail "bogus job ExitCode not 1:0"
ok "sbatch erase-mpi bogus-command job FAILED with the error line"

# ---- a trivial job, warm scheduler: the latency every later test pays ----------------------
t0=$EPOCHREALTIME
id=$(slurm_submit --ntasks=1 --output=/dev/null --wrap=true)
slurm_expect "$id" COMPLETED 30 || fail "trivial job $id did not complete"
measure "trivial job: sbatch to COMPLETED $(slurm_elapsed "$t0") s (poll every $ER_SLURM_POLL s)"

# ---- scancel --signal=TERM reaches the job script's trap ---------------------------------
# Plain `scancel --signal=TERM` signals job steps only, never the batch shell: --full (or --batch)
# is what makes a job script's `trap ... TERM` run.
cat >sig.sbatch <<'EOF'
#!/bin/bash
#SBATCH --ntasks=1                 # one task: the shell waits
#SBATCH --output=sig-%j.out        # stdout+stderr
trap 'echo "TERM received" >term.marker; exit 0' TERM
echo ready >ready.marker
while :; do sleep 0.2 & wait $!; done
EOF
id=$(slurm_submit sig.sbatch)
for ((i = 0; i < 100; i++)); do [ -e ready.marker ] && break; sleep 0.1; done
[ -e ready.marker ] || fail "signal job $id did not start within 10 s"
scancel --full --signal=TERM "$id"
slurm_expect "$id" COMPLETED 20 || fail "signal job $id did not end by its trap"
[ "$(cat term.marker 2>/dev/null)" = "TERM received" ] || fail "TERM marker missing"
ok "scancel --full --signal=TERM delivered to the job script"

# ---- a second cluster beside the first: own ports, untouched when the first stops ----------
b=$ER_SLURM_TEST_DIR/b
slurm_at_exit "$ER_SLURM_LIB_ROOT/scripts/slurm-down.sh" "$b"
"$ER_SLURM_LIB_ROOT/scripts/slurm-up.sh" "$b" >/dev/null || fail "second cluster did not start"
id=$(slurm_submit --ntasks=1 --output=/dev/null --wrap='sleep 30')
for ((i = 0; i < 50; i++)); do
  [ "$(slurm_job_field "$id" JobState)" = RUNNING ] && break
  sleep 0.1
done
[ "$(slurm_job_field "$id" JobState)" = RUNNING ] || fail "sleep job $id not running after 5 s"

# ---- stop: every recorded daemon and step gone, the other cluster intact -------------------
slurm_stop || fail "slurm-down.sh reported an error"
measure "slurm-down (cancel 1 job, stop 3 daemons) $ER_SLURM_DOWN_SECONDS s"
slurm_leftovers || fail "processes left after slurm-down.sh"
[ "$(wc -l <"$ER_SLURM_TEST_DIR/pids")" -eq 3 ] || fail "expected 3 recorded daemons"
slurm_stop || fail "second slurm-down.sh failed" # idempotent
state=$(SLURM_CONF=$b/slurm.conf sinfo -h -N -o %T) || fail "second cluster unreachable"
[ "$state" = idle ] || fail "second cluster's node is '$state' after the first stopped"
"$ER_SLURM_LIB_ROOT/scripts/slurm-down.sh" "$b" || fail "stopping the second cluster failed"
slurm_leftovers "$b" || fail "processes left by the second cluster"
ok "clean stop; a concurrent instance was not touched"
echo "PASS"
