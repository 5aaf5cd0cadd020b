#!/usr/bin/env bash
# test_checksums.sh: files that prove themselves. One flipped byte inside the stored data of any
# array of a dataset (graph, features, labels, each split, and a partition in the sidecar
# DATA.partitions.h5) is refused by `train` (verified while loading, at 1, 2 and 3 ranks) and by
# `info --verify`, with an error naming the dataset; one flipped byte anywhere in a checkpoint is
# refused by --resume and `info --verify`; the unflipped files pass both. Offsets come from h5py's
# chunk index.
set -uo pipefail
: "${ERASE_BIN:?}" "${MPIEXEC:?}" "${ER_MKFIXTURE:?}"
PY=/usr/bin/python3
$PY -c 'import h5py' 2>/dev/null || { echo "SKIP: no h5py"; exit 77; }
T=$(mktemp -d /tmp/er_sums.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail=0
"$MPIEXEC" -n 2 "$ERASE_BIN" generate --nodes 3000 --classes 5 --features 24 --avg-degree 6 \
  --train-per-class 20 --val 200 --test 300 --out g.h5 >/dev/null || { echo "generate failed"; exit 1; }
"$MPIEXEC" -n 2 "$ERASE_BIN" partition --data g.h5 --parts 2 --method block >/dev/null ||
  { echo "partition failed"; exit 1; }
TRAIN=(train --epochs 2 --hidden 8 --heads 2 --embed 8 --feature-norm none --quiet 1)
expect_refused() { # NAME PATTERN CMD...: one error line matching PATTERN, non-zero exit
  local name=$1 pat=$2; shift 2
  if "$@" >"$T/out" 2>"$T/err"; then echo "FAIL $name: accepted"; fail=1; return; fi
  if [ "$(grep -c '^erase-mpi: error:' "$T/err")" != 1 ] || ! grep -q -- "$pat" "$T/err"; then
    echo "FAIL $name: $(grep -m1 error "$T/err")"; fail=1; return; fi
  echo "ok   $name: $(grep -m1 '^erase-mpi: error:' "$T/err" | cut -c1-120)"
}
expect_ok() { # NAME CMD...
  local name=$1; shift
  "$@" >"$T/out" 2>"$T/err" && echo "ok   $name" || { echo "FAIL $name: $(tail -1 "$T/err")"; fail=1; }
}
# flip FILE DATASET|@OFFSET OUT: OUT is FILE with one byte flipped in DATASET's first chunk (or
# at an absolute offset)
flip() {
  $PY - "$1" "$2" "$3" <<'EOF'
import h5py, shutil, sys
src, what, dst = sys.argv[1:4]
shutil.copy(src, dst)
if what.startswith('@'):
    off = int(what[1:])
else:
    with h5py.File(src, 'r') as f:
        d = f[what]
        ci = d.id.get_chunk_info(0)
        off = ci.byte_offset + ci.size // 2
with open(dst, 'r+b') as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x10]))
EOF
}
expect_ok clean_train "$MPIEXEC" -n 2 "$ERASE_BIN" "${TRAIN[@]}" --data g.h5
expect_ok clean_verify "$ERASE_BIN" info --verify g.h5
# the graph checksum a training records (summed from the rows as it reads them) is info's, at
# any rank count and row distribution
want=$("$ERASE_BIN" info g.h5 | sed -n 's/^checksums *graph \([0-9a-f]*\),.*/\1/p')
for run in "1 block" "2 block" "3 block" "2 2"; do
  set -- $run
  rm -f o.h5
  "$MPIEXEC" -n "$1" "$ERASE_BIN" "${TRAIN[@]}" --data g.h5 --partition "$2" --out o.h5 \
    >/dev/null 2>&1 || { echo "FAIL train_out_np$1_$2"; fail=1; continue; }
  got=$($PY - o.h5 <<'EOF'
import h5py, sys
v = h5py.File(sys.argv[1], 'r').attrs['dataset_graph_checksum']
print(v.decode() if isinstance(v, bytes) else v)
EOF
)
  if [ -n "$want" ] && [ "$got" = "$want" ]; then echo "ok   graph_checksum_np$1_$2 $got"
  else echo "FAIL graph_checksum_np$1_$2: train recorded '$got', info prints '$want'"; fail=1; fi
  # the digests a writer takes from its buffers as it writes are those of the stored bytes
  expect_ok "out_verify_np$1_$2" "$ERASE_BIN" info --verify o.h5
done
# the same for import (g.h5 as .npy arrays, imported at 1 and 3 ranks): every dataset verified,
# and the files of both rank counts carry the same digests
mkdir npy && $PY - g.h5 npy <<'EOF'
import h5py, numpy as np, sys
f = h5py.File(sys.argv[1], 'r'); d = sys.argv[2]
ip, ix = f['graph/indptr'][:], f['graph/indices'][:]
rows = np.repeat(np.arange(len(ip) - 1), np.diff(ip))
np.save(d + '/edge_index.npy', np.stack([rows, ix]).astype(np.int64))
np.save(d + '/features.npy', f['features'][:])
np.save(d + '/labels.npy', f['labels'][:].astype(np.int64))
for s in ('train', 'val', 'test'):
    np.save(d + '/%s_idx.npy' % s, f['split/' + s][:].astype(np.int64))
EOF
for np_ in 1 3; do
  expect_ok "import_npy_np$np_" "$MPIEXEC" -n "$np_" "$ERASE_BIN" import --dir npy --out "imp$np_.h5"
  expect_ok "import_verify_np$np_" "$ERASE_BIN" info --verify "imp$np_.h5"
done
digests() { $PY -c 'import h5py, sys
f = h5py.File(sys.argv[1], "r"); out = []
f.visititems(lambda n, o: out.append("%s=%d" % (n, o.attrs["digest"])) if isinstance(o, h5py.Dataset) else None)
print(" ".join(out))' "$1"; }
if [ -n "$(digests imp1.h5)" ] && [ "$(digests imp1.h5)" = "$(digests imp3.h5)" ]; then
  echo "ok   import_digests_np1_np3"
else echo "FAIL import_digests_np1_np3: $(digests imp1.h5) / $(digests imp3.h5)"; fail=1; fi
ranks=(1 2 3)
i=0
for ds in /graph/indptr /graph/indices /features /labels /split/train /split/val /split/test; do
  flip g.h5 "$ds" bad.h5
  np=${ranks[$((i % 3))]}; i=$((i + 1))
  expect_refused "train_np${np}_$ds" "$ds" "$MPIEXEC" -n "$np" "$ERASE_BIN" "${TRAIN[@]}" \
    --data bad.h5 --partition block
  expect_refused "verify_$ds" "$ds" "$ERASE_BIN" info --verify bad.h5
done
# a partition's owners, in the sidecar g.partitions.h5 (read by train at 2 ranks with the
# stored partition, and by info --verify of the sidecar); the dataset beside it is unchanged
flip g.partitions.h5 /partitions/2 bad.partitions.h5
cp g.h5 bad.h5
expect_refused "train_np2_sidecar" "/partitions/2" "$MPIEXEC" -n 2 "$ERASE_BIN" "${TRAIN[@]}" \
  --data bad.h5 --partition 2
expect_refused "verify_sidecar" "/partitions/2" "$ERASE_BIN" info --verify bad.partitions.h5
expect_ok clean_sidecar_verify "$ERASE_BIN" info --verify g.partitions.h5
expect_ok clean_train_np2_partition "$MPIEXEC" -n 2 "$ERASE_BIN" "${TRAIN[@]}" --data g.h5 \
  --partition 2
# checkpoints: one byte anywhere
"$MPIEXEC" -n 2 "$ERASE_BIN" "${TRAIN[@]}" --data g.h5 --checkpoint ck.h5 --checkpoint-every 1 \
  >/dev/null 2>&1 || { echo "FAIL: checkpoint run"; fail=1; }
expect_ok ckpt_verify "$ERASE_BIN" info --verify ck.h5
size=$(stat -c %s ck.h5)
for off in 3 700 $((size / 3)) $((size / 2)) $((size - 5)); do
  flip ck.h5 "@$off" badck.h5
  expect_refused "ckpt_resume_at_$off" "corrupted" "$MPIEXEC" -n 2 "$ERASE_BIN" "${TRAIN[@]}" \
    --data g.h5 --epochs 3 --resume badck.h5
  expect_refused "ckpt_verify_at_$off" "corrupted" "$ERASE_BIN" info --verify badck.h5
done
[ $fail = 0 ] && echo "test_checksums: PASS" || echo "test_checksums: FAIL"
exit $fail
