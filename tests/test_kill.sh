#!/usr/bin/env bash
# test_kill.sh: a rank killed with SIGKILL, at three moments of a 2-rank Cora run with
# --checkpoint every 2 epochs: during epoch 5, during a checkpoint write, during the --out
# write (ERASE_STALL holds rank 1 at the chosen point so the kill lands there). Each time every
# other rank is gone within 30 s, the last complete checkpoint still verifies, no file at an
# output path is partial, and --resume reaches the uninterrupted run's final losses bitwise.
set -uo pipefail
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
CORA=${ER_CORA_DIR:-}
[ -r "$CORA/graph.edges" ] || { echo "SKIP: no Cora at '$CORA'"; exit 77; }
T=$(mktemp -d /tmp/er_kill.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail=0
"$ERASE_BIN" import --dir "$CORA" --out data.h5 >/dev/null || { echo "import failed"; exit 1; }
RUN=(train --data data.h5 --epochs 10 --patience 1000 --hidden 32 --heads 4 --embed 64 --quiet 1
     --checkpoint-every 2)
losses() { /usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if "epoch" in o: print(o["run"], o["epoch"], repr(o["loss"]), repr(o["R"]), repr(o["Rc"]))' "$1"; }

"$MPIEXEC" -n 2 "$ERASE_BIN" "${RUN[@]}" --checkpoint ref.ck.h5 --log-json ref.jsonl \
  --out ref.h5 >/dev/null 2>&1 || { echo "FAIL: the uninterrupted run failed"; exit 1; }
losses ref.jsonl >ref.losses

# kill_case NAME STALL WAIT_FOR: run, kill rank 1 once WAIT_FOR appears (a file, or the
# "stalled at" line on stderr), then check the survivors, the files, and the resume
kill_case() {
  local name=$1 stall=$2 wait_for=$3 d=$T/$1
  mkdir -p "$d"
  (cd "$d" && ERASE_STALL=$stall exec "$MPIEXEC" -n 2 "$ERASE_BIN" "${RUN[@]}" \
    --data "$T/data.h5" --checkpoint ck.h5 --log-json log.jsonl --out out.h5 \
    >out.txt 2>err.txt) &
  local mp=$! t=0
  until { [ "$wait_for" = stalled ] && grep -q 'stalled at' "$d/err.txt" 2>/dev/null; } ||
        { [ "$wait_for" != stalled ] && [ -e "$d/$wait_for" ]; }; do
    sleep 0.2; t=$((t + 1))
    [ $t -gt 600 ] && { echo "FAIL $name: the moment to kill never came"; kill -9 $mp; fail=1; return; }
  done
  local victim
  victim=$(pgrep -P "$mp" -f "erase-mpi" | head -1)
  [ -z "$victim" ] && victim=$(pgrep -f "$d" -n erase-mpi)
  local ranks
  ranks=$(pgrep -f "erase-mpi train --data $T/data.h5" | grep -v "^$mp$")
  kill -9 "$victim" 2>/dev/null
  local t0=$SECONDS
  wait $mp
  local rc=$? took=$((SECONDS - t0))
  sleep 1
  local left=0
  for p in $ranks; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
  [ $left -eq 0 ] && [ $took -le 30 ] || { echo "FAIL $name: $left processes left after ${took}s"; fail=1; }
  [ $rc -ne 0 ] || { echo "FAIL $name: mpirun exited 0 after a kill"; fail=1; }
  [ -e "$d/out.h5" ] && { echo "FAIL $name: out.h5 exists after the kill"; fail=1; }
  grep -q '"test_mean"' "$d/log.jsonl" 2>/dev/null && { echo "FAIL $name: log looks complete"; fail=1; }
  "$ERASE_BIN" info --verify "$d/ck.h5" >"$d/verify.txt" 2>&1 ||
    { echo "FAIL $name: the checkpoint does not verify: $(tail -1 "$d/verify.txt")"; fail=1; }
  local from
  from=$(h5dump -a /epoch "$d/ck.h5" 2>/dev/null | sed -n 's/.*(0): //p' | head -1)
  (cd "$d" && "$MPIEXEC" -n 2 "$ERASE_BIN" "${RUN[@]}" --data "$T/data.h5" --checkpoint ck.h5 \
    --resume ck.h5 --log-json log.jsonl --out out.h5 >resume.txt 2>&1) ||
    { echo "FAIL $name: resume failed: $(tail -2 "$d/resume.txt")"; fail=1; return; }
  losses "$d/log.jsonl" >"$d/losses"
  if cmp -s "$d/losses" ref.losses; then
    echo "ok   $name: killed a rank (mpirun rc $rc, all gone in ${took}s), resumed from epoch" \
      "$from to the uninterrupted run's losses"
  else
    echo "FAIL $name: the resumed losses differ from the uninterrupted run"
    diff "$d/losses" ref.losses | head -4
    fail=1
  fi
}

kill_case mid_epoch epoch:5 stalled
kill_case mid_checkpoint checkpoint:2 stalled
kill_case mid_out out stalled
[ $fail = 0 ] && echo "test_kill: PASS" || echo "test_kill: FAIL"
exit $fail
