#!/bin/bash
# test_partfile.sh: partitions live in a sidecar beside the dataset and nothing loses them.
#   1. `partition` (metis, ptscotch, block; 2 ranks) never changes the dataset file: its bytes
#      and its mtime are the same afterwards; every partition lands in DATA.partitions.h5, which
#      verifies (info --verify), and a 2-rank `train --partition 2` reads PT-Scotch's from it.
#   2. Concurrent `partition` runs for different P (four at once) all end up in the sidecar.
#   3. A full disk mid-write (a 1 MiB tmpfs, needs root; skipped otherwise) fails the run with
#      one error line and leaves the old sidecar byte-for-byte intact, with no temporary file;
#      after space is freed the same run succeeds and both partitions are there.
#   4. Fault injection over the sites of a 2-rank `partition --method ptscotch` (or
#      FAULT_METHOD): every FAULT_STRIDE-th site on rank 1 and every FAULT_STRIDE0-th on rank 0;
#      each run ends within 30 s, prints one error line, every rank exits non-zero, and the
#      dataset and the old sidecar are intact, with no temporary file left.
#   5. The same checks with each call into PT-Scotch (and METIS) failing in turn on rank 1 and
#      on rank 0 (ERASE_FAULT kind lib); the error line names the library.
set -u
: "${ERASE_BIN:?}" "${MPIEXEC:?}" "${ER_MKFIXTURE:?}"
STRIDE=${FAULT_STRIDE:-5} STRIDE0=${FAULT_STRIDE0:-20} METHOD=${FAULT_METHOD:-ptscotch}
T=$(mktemp -d /tmp/er_partfile.XXXXXX)
MNT=""
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2> /dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }
digest() { [ -e "$1" ] && { md5sum < "$1"; stat -c %Y.%y "$1"; } | tr '\n' ' ' || echo absent; }
parts_in() { h5ls "$1/partitions" 2> /dev/null | awk '{print $1}' | sort -n | tr '\n' ' '; }

# run NAME ERASE-ARGS...: a 2-rank run, per-rank exit codes in $T/exit.R, output in $T/NAME.*
run() {
  local name=$1
  shift
  rm -f "$T"/exit.*
  timeout "${RUN_TIMEOUT:-60}" "$MPIEXEC" -n 2 \
    sh -c '"$@"; echo $? > '"$T"'/exit.$OMPI_COMM_WORLD_RANK' sh \
    "$ERASE_BIN" "$@" > "$T/$name.out" 2> "$T/$name.err"
  echo $? > "$T/$name.rc"
}
code() { cat "$T/exit.$1" 2> /dev/null || echo missing; }
ranks_ok() { [ "$(code 0)" = 0 ] && [ "$(code 1)" = 0 ]; }

"$MPIEXEC" -n 1 "$ER_MKFIXTURE" --random "$T/g.h5" 20000 80000 5 > /dev/null ||
  { echo "mkfixture failed"; exit 1; }
D=$T/g.h5 S=$T/g.partitions.h5

# ---- 1. the dataset never changes ----------------------------------------------------------
before=$(digest "$D")
sleep 1.1 # an mtime change within the same second would go unseen
run m2 partition --data "$D" --parts 2 --method metis
ranks_ok || bad "metis P=2 failed: $(cat "$T/m2.err")"
run s4 partition --data "$D" --parts 4 --method ptscotch
ranks_ok || bad "ptscotch P=4 failed: $(cat "$T/s4.err")"
run b8 partition --data "$D" --parts 8 --method block
ranks_ok || bad "block P=8 failed: $(cat "$T/b8.err")"
[ "$(digest "$D")" = "$before" ] || bad "partition changed the dataset file (bytes or mtime)"
[ "$(parts_in "$S")" = "2 4 8 " ] || bad "sidecar holds '$(parts_in "$S")', want '2 4 8 '"
h5ls "$D/partitions" > /dev/null 2>&1 && bad "the dataset got a /partitions group"
"$ERASE_BIN" info "$D" > "$T/info.out" 2>&1 || bad "info failed: $(cat "$T/info.out")"
for p in 2 4 8; do grep -q "^  P=$p " "$T/info.out" || bad "info does not list P=$p"; done
"$ERASE_BIN" info --verify "$S" > "$T/verify.out" 2>&1 || bad "the sidecar does not verify"
# training at 2 ranks reads PT-Scotch's P=2 from the sidecar (each rank its slice)
run s2 partition --data "$D" --parts 2 --method ptscotch
ranks_ok || bad "ptscotch P=2 failed: $(cat "$T/s2.err")"
run t2 train --data "$D" --partition 2 --epochs 1 --hidden 8 --heads 2 --embed 8 --quiet 1
ranks_ok && grep -q '(partition 2)' "$T/t2.out" ||
  bad "train on the sidecar's P=2: $(cat "$T/t2.err")"
[ $fail -eq 0 ] && echo "ok   1: dataset unchanged, partitions 2 4 8 in the sidecar; train on P=2"

# ---- 2. concurrent runs for different P ----------------------------------------------------
rm -f "$S"
for spec in "3 metis" "5 ptscotch" "6 block" "7 metis"; do
  set -- $spec
  timeout 120 "$MPIEXEC" -n 2 "$ERASE_BIN" partition --data "$D" --parts "$1" --method "$2" \
    > "$T/c$1.out" 2>&1 &
done
wait
for p in 3 5 6 7; do
  grep -q "stored /partitions/$p" "$T/c$p.out" || bad "concurrent P=$p: $(tail -3 "$T/c$p.out")"
done
got=$(parts_in "$S")
[ "$got" = "3 5 6 7 " ] || bad "after concurrent runs the sidecar holds '$got'"
[ "$(digest "$D")" = "$before" ] || bad "concurrent partitions changed the dataset file"
compgen -G "$S.tmp.*" > /dev/null && bad "temporary sidecar left after concurrent runs"
[ $fail -eq 0 ] && echo "ok   2: four concurrent runs, all four partitions in the sidecar"

# ---- 3. a full disk mid-write ----------------------------------------------------------------
mkdir "$T/full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$T/full" 2> /dev/null; then
  MNT=$T/full
  "$MPIEXEC" -n 1 "$ER_MKFIXTURE" "$MNT/g.h5" 16 16 > /dev/null || bad "mkfixture on tmpfs"
  run f2 partition --data "$MNT/g.h5" --parts 2 --method ptscotch
  ranks_ok || bad "tmpfs P=2 failed: $(cat "$T/f2.err")"
  side_before=$(digest "$MNT/g.partitions.h5")
  dd if=/dev/zero of="$MNT/fill" bs=4k 2> /dev/null # until the disk is full
  run f4 partition --data "$MNT/g.h5" --parts 4 --method ptscotch
  n=$(grep -c '^erase-mpi: error:' "$T/f4.err")
  [ "$n" = 1 ] || bad "full disk: $n error lines: $(cat "$T/f4.err")"
  [ "$(code 0)" != 0 ] && [ "$(code 1)" != 0 ] || bad "full disk: a rank exited 0"
  [ "$(digest "$MNT/g.partitions.h5")" = "$side_before" ] || bad "full disk: the sidecar changed"
  compgen -G "$MNT/*.tmp.*" > /dev/null && bad "full disk: temporary file left: $(ls "$MNT")"
  rm -f "$MNT/fill"
  run f4b partition --data "$MNT/g.h5" --parts 4 --method ptscotch
  ranks_ok || bad "P=4 after freeing space failed: $(cat "$T/f4b.err")"
  got=$(parts_in "$MNT/g.partitions.h5")
  [ "$got" = "2 4 " ] || bad "tmpfs sidecar holds '$got'"
  umount "$MNT" && MNT=""
  [ $fail -eq 0 ] &&
    echo "ok   3: full disk: $(grep -m1 '^erase-mpi: error:' "$T/f4.err" | cut -c1-80)..."
else
  echo "skip 3: cannot mount a tmpfs (needs root)"
fi

# ---- 4. fault injection over `partition --method ptscotch` --------------------------------
"$MPIEXEC" -n 1 "$ER_MKFIXTURE" "$T/f.h5" 12 12 > /dev/null || bad "mkfixture f.h5"
run fbase partition --data "$T/f.h5" --parts 2 --method ptscotch
ranks_ok || bad "fault baseline failed"
d_before=$(digest "$T/f.h5") s_before=$(digest "$T/f.partitions.h5")
rm -f "$T"/count.*
ERASE_FAULT_COUNT=$T/count run fcount partition --data "$T/f.h5" --parts 4 --method "$METHOD"
s_before=$(digest "$T/f.partitions.h5") # now with P=2 and P=4; the runs below replace P=4
n1=$(awk '$1 == "any" {print $2}' "$T/count.1") n0=$(awk '$1 == "any" {print $2}' "$T/count.0")
runs=0
check_fault() { # SPEC
  local why=()
  [ "$(cat "$T/fault.rc")" = 124 ] && why+=("timed out (hang)")
  for r in 0 1; do [ "$(code $r)" = 0 ] && why+=("rank $r exited 0"); done
  local n
  n=$(grep -c '^erase-mpi: error:' "$T/fault.err")
  [ "$n" = 1 ] || why+=("$n error lines")
  grep -q 'fault injected' "$T/fault.err" || why+=("the fault never fired")
  grep -q 'Sanitizer\|runtime error' "$T/fault.err" && why+=("sanitizer report")
  [ "$(digest "$T/f.h5")" = "$d_before" ] || why+=("dataset changed")
  [ "$(digest "$T/f.partitions.h5")" = "$s_before" ] || why+=("sidecar changed")
  compgen -G "$T/f.partitions.h5.tmp.*" > /dev/null && why+=("temporary sidecar left")
  runs=$((runs + 1))
  if [ ${#why[@]} -gt 0 ]; then
    bad "fault $1: ${why[*]}"
    grep -m1 'fault injected' "$T/fault.err" | sed 's/^/     /'
    grep -m1 '^erase-mpi: error:' "$T/fault.err" | cut -c1-200 | sed 's/^/     /'
  fi
}
export RUN_TIMEOUT=30
for ((k = 1; k <= n1; k += STRIDE)); do
  ERASE_FAULT=any:$k:1 run fault partition --data "$T/f.h5" --parts 4 --method "$METHOD"
  check_fault "any:$k:1"
done
for ((k = 2; k <= n0; k += STRIDE0)); do
  ERASE_FAULT=any:$k:0 run fault partition --data "$T/f.h5" --parts 4 --method "$METHOD"
  check_fault "any:$k:0"
done
[ $fail -eq 0 ] && echo "ok   4: $runs faulty runs over $n1 sites on rank 1 and $n0 on rank 0"

# ---- 5. a failing PT-Scotch (or METIS) call on one rank -----------------------------------
# Every call into the partitioner (ERASE_FAULT kind lib) fails in turn on rank 1 and on rank 0:
# the checks of 4 (one error line naming the library, every rank non-zero, no hang, the old
# sidecar intact).
lib_before=$fail
for m in ptscotch metis; do
  rm -f "$T"/count.*
  ERASE_FAULT_COUNT=$T/count run lcount partition --data "$T/f.h5" --parts 4 --method "$m"
  s_before=$(digest "$T/f.partitions.h5")
  for r in 1 0; do
    nl=$(awk '$1 == "lib" {print $2}' "$T/count.$r")
    for ((k = 1; k <= nl; ++k)); do
      ERASE_FAULT=lib:$k:$r run fault partition --data "$T/f.h5" --parts 4 --method "$m"
      check_fault "$m lib:$k:$r"
      grep -q '^erase-mpi: error: .*\(PT-Scotch\|METIS\)' "$T/fault.err" ||
        bad "$m lib:$k:$r: the error does not name the library"
      libruns=$((${libruns:-0} + 1))
    done
  done
done
[ $fail -eq $lib_before ] && echo "ok   5: $libruns runs, each failing one partitioner call on one rank"

[ $fail -eq 0 ] && echo "test_partfile: PASS" || echo "test_partfile: FAIL"
exit $fail
