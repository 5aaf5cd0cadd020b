#!/usr/bin/env bash
# test_disk_full.sh: writing into a file system that fills up (small tmpfs mounts): --out of a
# 2-rank training run, a checkpoint that fits once but not twice, a dataset from import and from
# generate, a partition whose new sidecar does not fit beside the old one. Each must end with one
# error line from rank 0, every rank non-zero, no hang, no partial file at the output path, no
# temporary file left, and the previous checkpoint (sidecar) intact and resumable (usable). Needs
# root (mount); skipped (77) otherwise.
set -uo pipefail
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
CORA=${ER_CORA_DIR:-}
[ -r "$CORA/graph.edges" ] || { echo "SKIP: no Cora at '$CORA'"; exit 77; }
T=$(mktemp -d /tmp/er_full.XXXXXX)
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
small() { # DIR SIZE: a tmpfs of SIZE at DIR
  mkdir -p "$1" && mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null || return 1
  mounts+=("$1")
}
small "$T/probe" 1m || { echo "SKIP: cannot mount a tmpfs (not root?)"; exit 77; }
fail=0
"$ERASE_BIN" import --dir "$CORA" --out data.h5 >/dev/null || { echo "import failed"; exit 1; }
RUN=(train --data "$T/data.h5" --epochs 4 --hidden 16 --heads 2 --embed 32 --quiet 1)

# full NAME DIR PATTERN CMD...: the command fails cleanly; nothing is left in DIR but WANT_LEFT
full() {
  local name=$1 dir=$2 pat=$3; shift 3
  rm -f "$T"/exit.*
  timeout 60 "$MPIEXEC" -n 2 sh -c '"$@"; echo $? > '"$T"'/exit.$OMPI_COMM_WORLD_RANK' sh \
    "$@" >"$T/out" 2>"$T/err"
  local rc=$? why=()
  [ $rc = 124 ] && why+=("hang")
  for r in 0 1; do [ "$(cat "$T/exit.$r" 2>/dev/null)" = 0 ] && why+=("rank $r exited 0"); done
  [ "$(grep -c '^erase-mpi: error:' "$T/err")" = 1 ] || why+=("$(grep -c '^erase-mpi: error:' "$T/err") error lines")
  grep -q '^erase-mpi: error:' "$T/err" && ! grep '^erase-mpi: error:' "$T/err" | grep -Eq "$pat" &&
    why+=("message: $(grep '^erase-mpi: error:' "$T/err")")
  local left
  left=$(ls -A "$dir" | grep -v "^${WANT_LEFT:-@}$" | tr '\n' ' ')
  [ -n "$left" ] && why+=("left in $dir: $left")
  if [ ${#why[@]} -eq 0 ]; then echo "ok   $name: $(grep '^erase-mpi: error:' "$T/err" | cut -c1-110)"
  else echo "FAIL $name: ${why[*]}"; fail=1; fi
}

small "$T/out1m" 1m
full out_1m "$T/out1m" "No space|disk full|failed" "$ERASE_BIN" "${RUN[@]}" --hidden 64 \
  --embed 256 --out "$T/out1m/run.h5"

# a checkpoint fits once: the second write needs room for the old and the new file
"$MPIEXEC" -n 2 "$ERASE_BIN" "${RUN[@]}" --epochs 2 --checkpoint "$T/ck_size.h5" \
  --checkpoint-every 2 >/dev/null 2>&1
ck=$(stat -c %s "$T/ck_size.h5")
small "$T/ck" "$((ck * 3 / 2 / 1024 + 64))k"
WANT_LEFT=ck.h5 full checkpoint_second "$T/ck" "No space|disk full|failed" \
  "$ERASE_BIN" "${RUN[@]}" --checkpoint "$T/ck/ck.h5" --checkpoint-every 2
if "$ERASE_BIN" info --verify "$T/ck/ck.h5" >/dev/null 2>&1 &&
   "$MPIEXEC" -n 2 "$ERASE_BIN" "${RUN[@]}" --resume "$T/ck/ck.h5" >/dev/null 2>&1; then
  echo "ok   checkpoint_second: the first checkpoint verifies and resumes"
else
  echo "FAIL checkpoint_second: the previous checkpoint is damaged"; fail=1
fi

small "$T/imp" 1m
full import_1m "$T/imp" "No space|disk full|failed" "$ERASE_BIN" import --dir "$CORA" \
  --out "$T/imp/data.h5"
small "$T/gen" 1m
full generate_1m "$T/gen" "No space|disk full|failed" "$ERASE_BIN" generate --nodes 20000 \
  --out "$T/gen/g.h5"
# partition: the sidecar beside the dataset is rewritten whole (old partitions + the new one), so
# a file system with room for one sidecar but not two refuses the run and keeps the old one
"$MPIEXEC" -n 2 "$ERASE_BIN" partition --data data.h5 --parts 2 >/dev/null ||
  { echo "FAIL: partition"; fail=1; }
ds=$(stat -c %s data.h5) ps=$(stat -c %s data.partitions.h5)
small "$T/part" "$(((ds + ps) / 1024 + 128))k"
cp data.h5 data.partitions.h5 "$T/part/"
before=$(md5sum <"$T/part/data.partitions.h5")
WANT_LEFT='data.h5\|data.partitions.h5\|data.partitions.h5.lock' full partition_sidecar "$T/part" \
  "No space|disk full|failed" "$ERASE_BIN" partition --data "$T/part/data.h5" --parts 4
if [ "$(md5sum <"$T/part/data.partitions.h5")" = "$before" ] &&
   "$ERASE_BIN" info --verify "$T/part/data.partitions.h5" >/dev/null 2>&1 &&
   "$MPIEXEC" -n 2 "$ERASE_BIN" "${RUN[@]}" --data "$T/part/data.h5" --partition 2 --epochs 1 \
     >/dev/null 2>&1; then
  echo "ok   partition_sidecar: the previous sidecar is unchanged, verifies and trains"
else
  echo "FAIL partition_sidecar: the previous sidecar is damaged"; fail=1
fi
[ $fail = 0 ] && echo "test_disk_full: PASS" || echo "test_disk_full: FAIL"
exit $fail
