#!/bin/bash
# test_checkpoint.sh: checkpoint/restart and outputs of `erase-mpi train`:
#  - a resumed run at the same rank count reproduces the uninterrupted run bit for bit (every
#    epoch's loss, the final embeddings and accuracies); at another rank count within 1e-4;
#  - SIGUSR1 mid-run: the ranks finish the epoch, write the checkpoint, exit 75;
#  - refused with a clear error, the last good checkpoint untouched: another dataset, another
#    model shape, a truncated and a corrupted checkpoint, an unwritable output folder, a disk
#    that fills during the write (small tmpfs; skipped when mounting is not permitted);
#  - RUN.h5 holds the documented datasets and attributes, readable by h5py.
set -u
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
source "$(dirname "$0")/badinput_lib.sh"
T=$ER_T
PY=/usr/bin/python3
"$MPIEXEC" -n 2 "$ERASE_BIN" generate --nodes 600 --avg-degree 6 --classes 4 --features 16 \
  --train-per-class 10 --val 100 --test 200 --seed 5 --out "$T/g.h5" > /dev/null || exit 1
"$MPIEXEC" -n 2 "$ERASE_BIN" generate --nodes 500 --avg-degree 6 --classes 4 --features 16 \
  --train-per-class 10 --val 100 --test 200 --seed 6 --out "$T/other.h5" > /dev/null || exit 1
"$MPIEXEC" -n 2 "$ERASE_BIN" partition --data "$T/g.h5" --parts 2 > /dev/null || exit 1
M=(--hidden 16 --heads 2 --embed 16 --noise asymm --noise-ratio 0.3 --quiet 1 --runs 2)
train() { "$MPIEXEC" -n "$1" "$ERASE_BIN" train --data "$T/g.h5" "${M[@]}" "${@:2}"; }

# uninterrupted reference
train 2 --epochs 12 --log-json "$T/full.jsonl" --out "$T/full.h5" > /dev/null || { echo "FAIL full run"; exit 1; }
# the same, stopped after run 0 epoch 6 (checkpoint), then resumed
train 2 --epochs 6 --runs 1 --checkpoint "$T/ck.h5" --checkpoint-every 6 --log-json "$T/a.jsonl" > /dev/null 2>&1
cp "$T/ck.h5" "$T/ck6.h5"
train 2 --epochs 12 --resume "$T/ck6.h5" --log-json "$T/b.jsonl" --out "$T/resumed.h5" > /dev/null || { echo "FAIL resume"; fail=1; }
train 1 --epochs 12 --resume "$T/ck6.h5" --log-json "$T/c.jsonl" --out "$T/resumed1.h5" > /dev/null || { echo "FAIL resume at 1 rank"; fail=1; }
# resuming into the interrupted run's own log: what it logged up to the checkpoint stays, what
# came after (an epoch the resumed run repeats, a line cut short by a kill) goes
{ cat "$T/a.jsonl"; echo '{"run":0,"epoch":7,"loss":1}'; printf '{"run":0,"epo'; } > "$T/d.jsonl"
train 2 --epochs 12 --resume "$T/ck6.h5" --log-json "$T/d.jsonl" > /dev/null || { echo "FAIL resume into the same log"; fail=1; }
[ ! -e "$T/d.jsonl.tmp" ] || { echo "FAIL the log's rewrite left d.jsonl.tmp"; fail=1; }
$PY - "$T" <<'PY' || fail=1
import json, sys, h5py, numpy as np
T = sys.argv[1]
ld = lambda f: [json.loads(l) for l in open(f"{T}/{f}")]
full = {(o["run"], o["epoch"]): o for o in ld("full.jsonl") if "loss" in o}
a = [o for o in ld("a.jsonl") if "loss" in o and o["run"] == 0 and o["epoch"] <= 6]
for name, part in (("same ranks", ld("b.jsonl")), ("1 rank", ld("c.jsonl"))):
    got = {(o["run"], o["epoch"]): o for o in a + [o for o in part if "loss" in o]}
    assert set(got) == set(full), f"{name}: epochs differ"
    worst = max(abs(got[k]["loss"] - full[k]["loss"]) / abs(full[k]["loss"]) for k in full)
    tol = 0.0 if name == "same ranks" else 1e-4
    print(f"resume ({name}): {len(got)} epochs, max relative loss difference {worst:.2e} (bound {tol})")
    assert worst <= tol, name
    if name == "same ranks":
        assert all(got[k]["test_acc"] == full[k]["test_acc"] for k in full)
        assert part[-1] == ld("full.jsonl")[-1], "summary differs"
d = ld("d.jsonl")
keys = [(o["run"], o["epoch"]) for o in d if "epoch" in o]
assert len(keys) == len(set(keys)) and set(keys) == set(full), "resumed log: epochs repeated or missing"
assert all(o["loss"] == full[(o["run"], o["epoch"])]["loss"] for o in d if "epoch" in o), "resumed log: losses"
assert [o for o in d if "best_epoch" in o] == [o for o in ld("full.jsonl") if "best_epoch" in o], "run summaries"
assert d[-1] == ld("full.jsonl")[-1], "resumed log: final summary"
print(f"resume into the same log: {len(keys)} epochs, each once, equal to the uninterrupted log")
# the log's numbers are the output file's, to the bit (cJSON's own printing drops the last bit
# of about one double in ten)
with h5py.File(f"{T}/full.h5") as f:
    m = f["metrics/epoch"]
    ep = [o for o in ld("full.jsonl") if "loss" in o]
    keys = [k for k in ep[0] if k in m and isinstance(ep[0][k], float)]
    assert {"loss", "R", "Rc"} <= set(keys), keys
    for k in keys:
        assert np.array_equal(m[k][...], [o[k] for o in ep]), f"log and output differ in {k}"
    print(f"log == output file: {len(keys)} columns x {len(ep)} epochs, bit for bit")
with h5py.File(f"{T}/full.h5") as f, h5py.File(f"{T}/resumed.h5") as g:
    assert np.array_equal(f["/embeddings"][...], g["/embeddings"][...]), "embeddings differ"
    for k in ("denoised", "semantic", "predicted", "noisy"):
        assert np.array_equal(f["/labels/" + k][...], g["/labels/" + k][...]), k
    assert f["/embeddings"].shape == (600, 16) and f["/embeddings"].dtype == np.float32
    assert f["/metrics/epoch/loss"].shape == (24,) and f["/metrics/runs/test_acc"].shape == (2,)
    for att in ("config", "version", "git_revision", "ranks", "dataset", "dataset_graph_checksum"):
        assert att in f.attrs, att
    assert f.attrs["ranks"] == 2
    assert "test_mean" in f["/metrics/runs"].attrs
    lab = f["/labels/noisy"][...]
    assert (lab >= -1).all() and (lab >= 0).sum() == 40, "noisy labels cover the 40 training nodes"
print("resume and outputs: ok")
PY

# SIGUSR1 while training: checkpoint at the end of the epoch, exit status 75 on every rank
rm -f "$T"/exit.*
"$MPIEXEC" -n 2 sh -c '"$@"; echo $? > '"$T"'/exit.$OMPI_COMM_WORLD_RANK' sh "$ERASE_BIN" train \
  --data "$T/g.h5" "${M[@]}" --epochs 100000 --patience 100000 --checkpoint "$T/sig.h5" \
  > "$T/sig.out" 2> "$T/sig.err" & # no early stop: the run must still be going at the signal
pid=$!
for i in $(seq 1 100); do grep -q "^train:" "$T/sig.out" 2>/dev/null && break; sleep 0.2; done
sleep 1
pkill -USR1 -f "^$ERASE_BIN train --data $T/g.h5" # only this test's ranks
wait $pid
if [ "$(cat "$T"/exit.* 2>/dev/null | sort -u)" = 75 ] && grep -q "interrupted: checkpoint written" "$T/sig.err" &&
   h5ls "$T/sig.h5" > /dev/null 2>&1; then echo "ok   signal: $(cat "$T/sig.err")"
else echo "FAIL signal: exits $(cat "$T"/exit.* 2>/dev/null | tr '\n' ' ')"; cat "$T/sig.err"; fail=1; fi

# the signal to mpirun: Open MPI forwards SIGUSR1 to the ranks (checkpoint, exit 75, and mpirun
# exits 75); SIGTERM to mpirun is Open MPI's own abort of the job (README): every rank is gone
# within seconds, mpirun exits non-zero, and the last complete checkpoint stays valid
for sig in USR1 TERM; do
  rm -f "$T/msig.h5"
  "$MPIEXEC" -n 2 "$ERASE_BIN" train --data "$T/g.h5" "${M[@]}" --epochs 100000 --patience 100000 \
    --checkpoint "$T/msig.h5" --checkpoint-every 1 > "$T/msig.out" 2> "$T/msig.err" &
  mp=$!
  for i in $(seq 1 100); do [ -e "$T/msig.h5" ] && break; sleep 0.2; done
  kill -$sig $mp
  t0=$SECONDS
  wait $mp; rc=$?
  left=$(pgrep -f "^$ERASE_BIN train --data $T/g.h5" | wc -l)
  verify=$("$ERASE_BIN" info --verify "$T/msig.h5" 2>&1 | tail -1)
  if { [ $sig = TERM ] || [ $rc = 75 ]; } && [ $rc != 0 ] && [ "$left" = 0 ] &&
     [ $((SECONDS - t0)) -le 30 ] && grep -q '^verified' <<<"$verify"; then
    echo "ok   mpirun_$sig: mpirun exit $rc after $((SECONDS - t0)) s, the checkpoint verifies"
  else echo "FAIL mpirun_$sig: rc $rc, $left ranks left, checkpoint: $verify"; fail=1; fi
done

# refusals: each leaves the good checkpoint byte-identical
good=$(md5sum < "$T/ck6.h5")
er_case other_dataset fail "written for another dataset" -- train --data "$T/other.h5" "${M[@]}" --epochs 12 --resume "$T/ck6.h5" --checkpoint "$T/ck6.h5"
er_case other_model fail "another model shape" -- train --data "$T/g.h5" "${M[@]}" --hidden 32 --epochs 12 --resume "$T/ck6.h5" --checkpoint "$T/ck6.h5"
er_case other_trajectory fail "was written with --lr" -- train --data "$T/g.h5" "${M[@]}" --lr 0.01 --epochs 12 --resume "$T/ck6.h5" --checkpoint "$T/ck6.h5"
er_case other_noise fail "was written with --noise-seed" -- train --data "$T/g.h5" "${M[@]}" --noise-seed 7 --epochs 12 --resume "$T/ck6.h5" --checkpoint "$T/ck6.h5"
er_case out_is_data fail "--out .* is the same file as --data" -- train --data "$T/g.h5" "${M[@]}" --epochs 2 --out "$T/g.h5"
er_case log_is_ckpt fail "same file" -- train --data "$T/g.h5" "${M[@]}" --epochs 2 --checkpoint "$T/x.h5" --log-json "$T/x.h5"
head -c $(( $(stat -c %s "$T/ck6.h5") / 2 )) "$T/ck6.h5" > "$T/trunc.h5"
er_case truncated fail "truncated or corrupted|cannot open|failed" -- train --data "$T/g.h5" "${M[@]}" --epochs 12 --resume "$T/trunc.h5"
cp "$T/ck6.h5" "$T/bad.h5"
$PY - "$T/bad.h5" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:   # flip one weight: valid HDF5, wrong content
    d = f["/params"]; v = d[7]; d[7] = v + 1.0
PY
er_case corrupted fail "corrupted \\((content|whole-file) checksum mismatch\\)" -- train --data "$T/g.h5" "${M[@]}" --epochs 12 --resume "$T/bad.h5"
er_case resume_missing fail "cannot open" -- train --data "$T/g.h5" "${M[@]}" --epochs 12 --resume "$T/none.h5"
[ "$(md5sum < "$T/ck6.h5")" = "$good" ] || { echo "FAIL: the good checkpoint changed"; fail=1; }

mkdir -p "$T/ro" "$T/small"
if mount -t tmpfs -o ro,size=1m tmpfs "$T/ro" 2>/dev/null; then
  er_case out_not_writable fail "cannot create output file" -- train --data "$T/g.h5" "${M[@]}" --epochs 2 --out "$T/ro/run.h5"
  er_case ckpt_not_writable fail "cannot create output file" -- train --data "$T/g.h5" "${M[@]}" --epochs 2 --checkpoint "$T/ro/ck.h5" --checkpoint-every 1
  umount "$T/ro"
  # disk full: a valid checkpoint first, then fill the disk and write again
  mount -t tmpfs -o size=4m tmpfs "$T/small"
  train 2 --epochs 2 --runs 1 --checkpoint "$T/small/ck.h5" --checkpoint-every 2 > /dev/null 2>&1
  before=$(md5sum < "$T/small/ck.h5")
  size=$(stat -c %s "$T/small/ck.h5")
  free_kb=$(df -k --output=avail "$T/small" | tail -1)
  dd if=/dev/zero of="$T/small/fill" bs=1k count=$(( free_kb - size / 2048 )) 2>/dev/null
  er_case disk_full fail "disk full|failed|cannot|No space" -- train --data "$T/g.h5" "${M[@]}" --runs 1 --epochs 4 --checkpoint "$T/small/ck.h5" --checkpoint-every 2 --resume "$T/small/ck.h5"
  [ "$(md5sum < "$T/small/ck.h5")" = "$before" ] && echo "ok   disk_full: previous checkpoint intact" || { echo "FAIL disk_full: checkpoint changed"; fail=1; }
  ls "$T/small" | grep -q tmp && { echo "FAIL disk_full: temporary file left"; fail=1; }
  umount "$T/small"
else
  echo "note: cannot mount tmpfs here: unwritable-folder and disk-full cases not run"
fi
er_summary test_checkpoint
