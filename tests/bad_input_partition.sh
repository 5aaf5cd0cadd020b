#!/bin/bash
# bad_input_partition.sh: `erase-mpi partition` on bad input at 2 ranks: every rank exits
# non-zero, rank 0 prints exactly one "erase-mpi: error:" line, no hang, the dataset file is
# left byte-for-byte unchanged and so is its partitions sidecar (or none is created). One good
# run first proves the harness can see success.
set -u
: "${ERASE_BIN:?}" "${MPIEXEC:?}" "${ER_MKFIXTURE:?}"
T=$(mktemp -d /tmp/er_badpart.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0

# run_case NAME EXPECT(ok|fail) FILE-TO-WATCH erase-mpi-args...
run_case() {
  local name=$1 expect=$2 watch=$3
  shift 3
  local before after side=${watch%.h5}.partitions.h5 side_before side_after
  before=$( [ -e "$watch" ] && md5sum < "$watch" || echo absent)
  side_before=$( [ -e "$side" ] && md5sum < "$side" || echo absent)
  rm -f "$T"/exit.*
  timeout 60 "$MPIEXEC" -n 2 sh -c '"$@"; echo $? > '"$T"'/exit.$OMPI_COMM_WORLD_RANK' sh \
    "$ERASE_BIN" partition "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  after=$( [ -e "$watch" ] && md5sum < "$watch" || echo absent)
  side_after=$( [ -e "$side" ] && md5sum < "$side" || echo absent)
  local errors ok=1
  errors=$(grep -c '^erase-mpi: error:' "$T/err")
  if [ $rc -ne 0 ]; then echo "[$name] mpiexec/timeout returned $rc"; ok=0; fi
  for r in 0 1; do
    if [ ! -f "$T/exit.$r" ]; then echo "[$name] rank $r left no exit code"; ok=0; continue; fi
    local code
    code=$(cat "$T/exit.$r")
    if [ "$expect" = fail ] && [ "$code" -eq 0 ]; then echo "[$name] rank $r exited 0"; ok=0; fi
    if [ "$expect" = ok ] && [ "$code" -ne 0 ]; then echo "[$name] rank $r exited $code"; ok=0; fi
  done
  if [ "$expect" = fail ]; then
    [ "$errors" -eq 1 ] || { echo "[$name] $errors error lines (want 1)"; ok=0; }
    [ "$before" = "$after" ] || { echo "[$name] $watch changed"; ok=0; }
    [ "$side_before" = "$side_after" ] || { echo "[$name] $side changed"; ok=0; }
    compgen -G "$side.tmp.*" > /dev/null && { echo "[$name] temporary sidecar left"; ok=0; }
  else
    [ "$before" = "$after" ] || { echo "[$name] $watch changed (it must never be)"; ok=0; }
    [ "$errors" -eq 0 ] || { echo "[$name] unexpected error line"; ok=0; }
  fi
  if [ $ok -eq 1 ]; then
    echo "ok   $name: $(grep -m1 '^erase-mpi: error:' "$T/err" || echo success)"
  else
    echo "FAIL $name"; sed 's/^/  stderr: /' "$T/err" | head -20
    fail=1
  fi
}

"$MPIEXEC" -n 1 "$ER_MKFIXTURE" "$T/grid.h5" 4 4 > /dev/null || { echo "mkfixture failed"; exit 1; }
D=$T/grid.h5

run_case good ok "$D" --data "$D" --parts 2
h5ls "$T/grid.partitions.h5/partitions" | grep -q '^2 ' ||
  { echo "FAIL good: /partitions/2 missing from the sidecar"; fail=1; }
run_case good_ptscotch ok "$D" --data "$D" --parts 3 --method ptscotch
run_case good_ncuts ok "$D" --data "$D" --parts 3 --method ptscotch --ncuts 3

run_case p_zero fail "$D" --data "$D" --parts 0
run_case p_negative fail "$D" --data "$D" --parts -2
run_case p_above_n fail "$D" --data "$D" --parts 17
run_case p_not_numeric fail "$D" --data "$D" --parts abc
run_case p_missing fail "$D" --data "$D"
run_case unknown_method fail "$D" --data "$D" --parts 2 --method spectral
run_case unknown_objective fail "$D" --data "$D" --parts 2 --objective edges
run_case unknown_weights fail "$D" --data "$D" --parts 2 --weights random
run_case ptscotch_vol fail "$D" --data "$D" --parts 2 --method ptscotch --objective vol
run_case block_degree fail "$D" --data "$D" --parts 2 --method block --weights degree
run_case ptscotch_p_above_n fail "$D" --data "$D" --parts 17 --method ptscotch
run_case bad_seed fail "$D" --data "$D" --parts 2 --seed -1
run_case ncuts_zero fail "$D" --data "$D" --parts 2 --ncuts 0
run_case ncuts_not_numeric fail "$D" --data "$D" --parts 2 --ncuts x
run_case ncuts_above_max fail "$D" --data "$D" --parts 2 --method ptscotch --ncuts 1001
run_case block_ncuts fail "$D" --data "$D" --parts 2 --method block --ncuts 2
run_case unknown_option fail "$D" --data "$D" --parts 2 --bogus
run_case stray_argument fail "$D" --data "$D" --parts 2 extra
run_case missing_file fail "$T/nope.h5" --data "$T/nope.h5" --parts 2
[ -e "$T/nope.h5" ] && { echo "FAIL missing_file: file was created"; fail=1; }
printf 'this is not an HDF5 file\n' > "$T/text.h5"
run_case not_hdf5 fail "$T/text.h5" --data "$T/text.h5" --parts 2
run_case not_hdf5_ptscotch fail "$T/text.h5" --data "$T/text.h5" --parts 2 --method ptscotch
head -c $(( $(stat -c %s "$D") / 2 )) "$D" > "$T/trunc.h5"
run_case truncated fail "$T/trunc.h5" --data "$T/trunc.h5" --parts 2
run_case truncated_ptscotch fail "$T/trunc.h5" --data "$T/trunc.h5" --parts 2 --method ptscotch
# a directory that cannot hold the sidecar: the dataset is readable, its directory is not
# writable (root ignores permissions, so a read-only bind of the directory stands in)
mkdir "$T/ro" && cp "$D" "$T/ro/g.h5"
if mount --bind -o ro "$T/ro" "$T/ro" 2> /dev/null || { mount --bind "$T/ro" "$T/ro" &&
    mount -o remount,bind,ro "$T/ro"; } 2> /dev/null; then
  run_case read_only_dir fail "$T/ro/g.h5" --data "$T/ro/g.h5" --parts 2
  umount "$T/ro"
else
  echo "skip read_only_dir: cannot bind-mount read-only here"
fi

[ $fail -eq 0 ] && echo "bad_input_partition: PASS" || echo "bad_input_partition: FAIL"
exit $fail
