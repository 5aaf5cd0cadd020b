#!/usr/bin/env bash
# test_slurm_train.sh: jobs/train.sbatch on a private Slurm: a small generated graph
# (prepare.sbatch), training at 2 and 4 tasks, then interruptions that must resume to the
# uninterrupted result bit-for-bit: `scancel --signal=TERM` (user stop, resubmit), the
# time-limit warning (USR1 to the batch shell: checkpoint, self-requeue) and `scancel --full`
# (srun kills the ranks; the periodic checkpoint resumes); a step that exits 0 without writing
# OUT is retried once and then fails the job. Skips without Slurm.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/slurm_lib.sh
. "$here/slurm_lib.sh"
slurm_require
: "${ERASE_BIN:?ERASE_BIN must name the erase-mpi binary}"
export ERASE_BIN
jobs=$(cd "$here/../jobs" && pwd)
py=/usr/bin/python3
t_test=$EPOCHREALTIME
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok [$(slurm_elapsed "$t_test") s]: $*"; }

slurm_start
mkdir "$ER_SLURM_TEST_DIR/work"
cd "$ER_SLURM_TEST_DIR/work"
small="--hidden 16 --heads 2 --embed 16"

# ---- 1. bad knobs fail before srun -------------------------------------------------------------
bad=$(DATA=missing.h5 slurm_submit -n 1 "$jobs/train.sbatch")
bad2=$(DATA=/dev/null EPOCHS=x slurm_submit -n 1 "$jobs/train.sbatch")

# ---- 2. data, then training at 2 and 4 tasks ---------------------------------------------------
prep=$(NODES=2000 PARTS="2 4" OUT=data/g.h5 slurm_submit -n 2 "$jobs/prepare.sbatch")
declare -A tr
for p in 2 4; do
  tr[$p]=$(DATA=data/g.h5 OUT=runs/r$p.h5 EPOCHS=5 EXTRA_ARGS=$small \
    slurm_submit -n "$p" -d "afterok:$prep" "$jobs/train.sbatch")
done
# `train --help` exits 0 and writes nothing: what srun reports when a step never launched
noout=$(DATA=data/g.h5 OUT=runs/noout.h5 EPOCHS=5 EXTRA_ARGS=--help \
  slurm_submit -n 1 -d "afterok:$prep" "$jobs/train.sbatch")
slurm_expect "$bad" FAILED 30 || fail "job with a missing DATA did not fail"
grep -q "train-job: error: DATA 'missing.h5' does not exist" "erase-train-$bad.out" ||
  fail "no DATA error line: $(cat "erase-train-$bad.out")"
slurm_expect "$bad2" FAILED 30 || fail "job with EPOCHS=x did not fail"
grep -q "EPOCHS must be a non-negative integer, got 'x'" "erase-train-$bad2.out" ||
  fail "no EPOCHS error line: $(cat "erase-train-$bad2.out")"
! grep -q 'srun' "erase-train-$bad.out" "erase-train-$bad2.out" || fail "srun ran despite bad knobs"
ok "train.sbatch fails fast on bad knobs"

slurm_expect "$prep" COMPLETED 90 || fail "prepare job $prep did not complete"
for p in 2 4; do
  slurm_expect "${tr[$p]}" COMPLETED 90 || fail "train job ${tr[$p]} ($p tasks) did not complete"
  out=$(cat "erase-train-${tr[$p]}.out")
  grep -q "^train: $PWD/data/g.h5 N=2000 .* on $p ranks (partition $p)" <<<"$out" ||
    fail "no train header for $p ranks: $out"
  grep -q '^summary: test accuracy' <<<"$out" || fail "no summary line: $out"
  grep -q "^train-job: done: $PWD/runs/r$p.h5" <<<"$out" || fail "no done line: $out"
  [ ! -e "runs/r$p.ckpt.h5" ] || fail "checkpoint left after a finished run"
  "$py" - "runs/r$p.log.json" "runs/r$p.h5" "$p" <<'EOF' || fail "outputs of the $p-task run"
import json, sys, h5py, numpy as np
recs = [json.loads(l) for l in open(sys.argv[1])]
ep = [r for r in recs if "epoch" in r and "loss" in r]
assert [(r["run"], r["epoch"]) for r in ep] == [(0, e) for e in range(1, 6)], ep
assert all(r["compute_s"] > 0 and r["comm_s"] >= 0 and np.isfinite(r["loss"]) for r in ep)
assert [r for r in recs if "best_epoch" in r][0]["run"] == 0
summ = recs[-1]
assert summ["runs"] == 1 and 0 <= summ["test_mean"] <= 100, summ
with h5py.File(sys.argv[2], "r") as f:
    assert int(f.attrs["ranks"]) == int(sys.argv[3]), dict(f.attrs)
    assert f["embeddings"].shape == (2000, 16), f["embeddings"].shape
    np.testing.assert_array_equal(f["metrics/epoch/epoch"][:], np.arange(1, 6))
    np.testing.assert_array_equal(f["metrics/epoch/loss"][:], [r["loss"] for r in ep])
EOF
done
ok "prepare + train at 2 and 4 tasks: header, summary, JSON log, RUN.h5"

slurm_expect "$noout" FAILED 60 || fail "job whose steps wrote no OUT did not fail"
out=$(cat "erase-train-$noout.out")
[ "$(grep -c "^train-job: + srun" <<<"$out")" = 2 ] || fail "the step was not retried once: $out"
grep -q "^train-job: error: srun exited 0 twice without writing $PWD/runs/noout.h5" <<<"$out" ||
  fail "no error line for the missing OUT: $out"
! grep -q "^train-job: done" <<<"$out" || fail "a run without OUT was reported done: $out"
ok "srun exiting 0 without OUT: retried once, then the job fails"

# a finished run (OUT there, no checkpoint) is not trained again when resubmitted
again=$(DATA=data/g.h5 OUT=runs/r2.h5 EPOCHS=5 EXTRA_ARGS=$small slurm_submit -n 2 "$jobs/train.sbatch")
slurm_expect "$again" COMPLETED 30 || fail "resubmitted finished job $again did not complete"
grep -q "done already: $PWD/runs/r2.h5 exists and is newer" "erase-train-$again.out" ||
  fail "finished run trained again: $(cat "erase-train-$again.out")"
ok "resubmitting a finished run is a no-op"

# ---- 3. interruptions: stop, check the checkpoint, resume, compare with an uninterrupted run --
epochs=60
# train_job NAME: submit the interruption runs' common config at 2 tasks, OUT=runs/NAME.h5
train_job() {
  (
    export DATA=data/g.h5 EPOCHS=$epochs CKPT_EVERY=1 EXTRA_ARGS=$small OUT=runs/$1.h5
    slurm_submit -n 2 "$jobs/train.sbatch"
  )
}
ref=$(train_job ref)

# interrupt NAME HOW: start a run OUT=runs/NAME.h5, wait for >= 3 logged epochs and a checkpoint,
# signal it (HOW = scancel options); sets job
interrupt() {
  local name=$1 i n=0
  shift
  job=$(train_job "$name")
  for ((i = 0; i < 600; i++)); do
    [ -f "runs/$name.log.json" ] && n=$(grep -c '"epoch"' "runs/$name.log.json" || :)
    [ "$n" -ge 3 ] && [ -f "runs/$name.ckpt.h5" ] && break
    case $(slurm_job_field "$job" JobState) in
      PENDING | CONFIGURING | RUNNING) ;;
      *) fail "job $job ($name) ended before 3 epochs and a checkpoint: $(cat "erase-train-$job.out")" ;;
    esac
    sleep 0.1
  done
  [ "$n" -ge 3 ] || fail "job $job ($name): fewer than 3 epochs logged after 60 s"
  scancel "$@" "$job"
  echo "signalled job $job ($name) after $n epochs: scancel $*"
}

# check_ckpt FILE: a readable checkpoint, taken before the last epoch
check_ckpt() {
  h5ls "$1" >/dev/null || fail "checkpoint $1 is not a readable HDF5 file"
  "$py" - "$1" "$epochs" <<'EOF' || fail "checkpoint $1 has no epoch attribute below $epochs"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    e = int(f.attrs["epoch"])
    assert 1 <= e < int(sys.argv[2]), e
    print(f"checkpoint {sys.argv[1]}: epoch {e}")
EOF
}

# same_as_ref NAME: every logged epoch and the final results equal the uninterrupted run's
same_as_ref() {
  "$py" - "runs/$1" runs/ref "$epochs" <<'EOF' || fail "run $1 differs from the uninterrupted run"
import json, sys, h5py, numpy as np
def log(stem):
    ep, summ = {}, None
    for line in open(stem + ".log.json"):
        r = json.loads(line)
        if "epoch" in r and "loss" in r:
            assert (r["run"], r["epoch"]) not in ep, ("epoch logged twice", r["run"], r["epoch"])
            ep[(r["run"], r["epoch"])] = r
        elif "test_mean" in r:
            summ = r
    return ep, summ
(a, sa), (b, sb) = log(sys.argv[1]), log(sys.argv[2])
n = int(sys.argv[3])
assert sorted(b) == [(0, e) for e in range(1, n + 1)], sorted(b)
assert sorted(a) == sorted(b), sorted(a)  # the job script keeps the log whole across resumes
keys = ["loss", "R", "Rc", "delta_R", "train_acc", "val_acc", "test_acc"]
for k in a:
    for key in keys:
        assert a[k][key] == b[k][key], (k, key, a[k][key], b[k][key])
assert sa == sb, (sa, sb)
with h5py.File(sys.argv[1] + ".h5", "r") as fa, h5py.File(sys.argv[2] + ".h5", "r") as fb:
    np.testing.assert_array_equal(fa["embeddings"][:], fb["embeddings"][:])
    for key in ("loss", "test_acc"):
        np.testing.assert_array_equal(fa["metrics/epoch/" + key][:], fb["metrics/epoch/" + key][:])
print(f"{len(a)} logged epochs and the final results equal the uninterrupted run")
EOF
}

# 3a. user stop: `scancel --signal=TERM` signals the job steps (the ranks), not the batch shell
interrupt stop --signal=TERM
stop=$job
slurm_expect "$stop" FAILED 60 || fail "stopped job $stop did not end FAILED (exit 75)"
[ "$(slurm_job_field "$stop" ExitCode)" = 75:0 ] ||
  fail "stopped job ExitCode $(slurm_job_field "$stop" ExitCode), expected 75:0"
out=$(cat "erase-train-$stop.out")
grep -q "^erase-mpi: interrupted: checkpoint written to $PWD/runs/stop.ckpt.h5 at run 0 epoch" \
  <<<"$out" ||
  fail "no 'interrupted' line: $out"
grep -q "^train-job: stopped with a checkpoint" <<<"$out" || fail "no stop line: $out"
[ ! -e runs/stop.h5 ] || fail "an interrupted run wrote its final output"
check_ckpt runs/stop.ckpt.h5
ok "scancel --signal=TERM: the ranks checkpoint, the job ends with exit 75"

# 3b. time-limit warning: `#SBATCH --signal=B:USR1@120` sends USR1 to the batch shell only,
# exactly as `scancel --batch --signal=USR1` does; the job checkpoints and requeues itself
interrupt limit --batch --signal=USR1
limit=$job
for ((i = 0; i < 300; i++)); do
  [ "$(slurm_job_field "$limit" Restarts)" = 1 ] &&
    [ "$(slurm_job_field "$limit" JobState)" = PENDING ] && break
  sleep 0.1
done
[ "$(slurm_job_field "$limit" JobState)" = PENDING ] ||
  fail "job $limit not requeued: $(scontrol -o show job "$limit") $(cat "erase-train-$limit.out")"
check_ckpt runs/limit.ckpt.h5
# A requeued job is held ~2 min (BeginTime); shorten the hold to a few seconds. Not to `now`:
# slurmd revokes the old allocation's credential at the requeue and treats a credential made
# in that same second as revoked too, so a restart within the second is killed as
# "non-startable batch job: Job credential revoked" (seen in CI).
scontrol update JobId="$limit" StartTime=now+5
ok "time-limit warning (USR1 to the batch shell): checkpoint and self-requeue"

# 3c. `scancel --full --signal=TERM` also signals srun, which SIGKILLs the ranks: no final
# checkpoint, but the last periodic one is intact (written atomically) and resumes as well
interrupt hard --full --signal=TERM
hard=$job
state=$(slurm_wait "$hard" 60) || fail "job $hard did not end after scancel --full"
[ "$state" != COMPLETED ] || fail "job $hard completed despite scancel --full --signal=TERM"
check_ckpt runs/hard.ckpt.h5
ok "scancel --full --signal=TERM: job $state, the periodic checkpoint is intact"

# 3d. resume: the stopped and killed ones by resubmitting the same command
resumed=$(train_job stop)
resumed_hard=$(train_job hard)
slurm_expect "$ref" COMPLETED 120 || fail "uninterrupted job $ref did not complete"
slurm_expect "$resumed" COMPLETED 120 || fail "resubmitted job $resumed did not complete"
slurm_expect "$limit" COMPLETED 120 || fail "requeued job $limit did not complete"
grep -q "^train-job: resuming from checkpoint $PWD/runs/stop.ckpt.h5" "erase-train-$resumed.out" ||
  fail "resubmitted job did not resume: $(cat "erase-train-$resumed.out")"
out=$(cat "erase-train-$limit.out")
grep -q "^train-job: time limit near: requeueing job $limit" <<<"$out" || fail "no requeue line: $out"
grep -q "^train-job: job $limit on .* restart 1," <<<"$out" || fail "no restart 1 line: $out"
grep -q "^train-job: resuming from checkpoint $PWD/runs/limit.ckpt.h5" <<<"$out" ||
  fail "requeued job did not resume: $out"
slurm_expect "$resumed_hard" COMPLETED 120 || fail "resubmitted job $resumed_hard did not complete"
for name in stop limit hard; do
  same_as_ref "$name"
  [ ! -e "runs/$name.ckpt.h5" ] || fail "checkpoint runs/$name.ckpt.h5 left after resuming"
done
ok "resubmitted, requeued and killed runs resume to the uninterrupted result bit-for-bit"
echo "PASS"
