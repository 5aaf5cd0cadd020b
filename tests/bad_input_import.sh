#!/usr/bin/env bash
# bad_input_import.sh: every malformed input to `import` / `info` must give, at 2 ranks, a
# non-zero exit on every rank, exactly one "erase-mpi: error:" line naming the problem (the
# first in file order, whichever rank met it), and no output (or temporary) file: text, gzip,
# .npy and OGB inputs. Needs ERASE_BIN and MPIEXEC (set by ctest), /usr/bin/python3 with numpy;
# no Cora needed.
# One case per kind of problem; more variants of each are checked in-process by test_import.c.
set -u
: "${ERASE_BIN:?ERASE_BIN not set}" "${MPIEXEC:?MPIEXEC not set}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

T=$(mktemp -d /tmp/er_badimport_XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- a small valid dataset: 5 nodes, 3 features, 3 classes ----
G=$T/good
mkdir -p "$G"
printf '0 1\n1 2\n2 3\n3 4\n' >"$G/graph.edges"
printf '%%%%MatrixMarket matrix coordinate real general\n5 3 4\n1 1 1.0\n2 2 0.5\n4 3 2\n5 1 -1\n' \
  >"$G/features.mtx"
printf '0\n1\n0\n1\n2\n' >"$G/labels.txt"
printf '0\n1\n' >"$G/train.idx"
printf '2\n' >"$G/val.idx"
printf '3\n4\n' >"$G/test.idx"

# new_case NAME: fresh copy of the good inputs in $T/NAME (printed), with an empty out dir.
new_case() {
  rm -rf "$T/$1"
  cp -r "$G" "$T/$1"
  mkdir -p "$T/$1/out"
  echo "$T/$1"
}

# run_check NAME REGEX OUTDIR CMD...: run CMD under MPI at 2 ranks and assert the contract;
# prints one PASS/FAIL line (plus stderr on failure).
run_check() {
  local name=$1 regex=$2 outdir=$3
  shift 3
  local ex=$T/exit.$name
  mkdir -p "$ex"
  EX=$ex timeout 60 "$MPIEXEC" -n 2 sh -c '"$@"; echo $? > "$EX/exit.$OMPI_COMM_WORLD_RANK"' sh \
    "$@" >"$T/$name.out" 2>"$T/$name.err"
  local rc=$? why=""
  [ $rc -eq 124 ] && why="timed out"
  for r in 0 1; do
    if [ ! -f "$ex/exit.$r" ]; then why="$why rank $r did not finish"
    elif [ "$(cat "$ex/exit.$r")" = 0 ]; then why="$why rank $r exited 0"; fi
  done
  local nerr
  nerr=$(grep -c '^erase-mpi: error:' "$T/$name.err")
  [ "$nerr" = 1 ] || why="$why $nerr error lines"
  grep '^erase-mpi: error:' "$T/$name.err" | grep -Eq -- "$regex" || why="$why message does not match /$regex/"
  grep -Eq 'Sanitizer|runtime error:' "$T/$name.err" && why="$why sanitizer report"
  if [ -n "$outdir" ] && [ -n "$(ls -A "$outdir" 2>/dev/null)" ]; then
    why="$why files left: $(ls -A "$outdir" | tr '\n' ' ')"
  fi
  if [ -z "$why" ]; then
    printf 'PASS %-22s %s\n' "$name" "$(grep '^erase-mpi: error:' "$T/$name.err" | head -1)"
  else
    printf 'FAIL %-22s %s\n' "$name" "$why"
    sed 's/^/    | /' "$T/$name.err" | head -20
  fi
}

# check ...: run_check in the background, at most $JOBS at a time (MPI start-up dominates
# the run time, and it is mostly waiting); results are printed in order at the end.
JOBS=${ER_TEST_JOBS:-4}
ncase=0
check() {
  ncase=$((ncase + 1))
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  run_check "$@" >"$T/result.$(printf '%03d' $ncase)" 2>&1 &
}

# bad_file NAME FILE CONTENT REGEX [extra import options]: one input file replaced.
bad_file() {
  local name=$1 file=$2 content=$3 regex=$4
  shift 4
  local d
  d=$(new_case "$name")
  printf '%b' "$content" >"$d/$file"
  check "$name" "$regex" "$d/out" "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5" "$@"
}

MM='%%MatrixMarket matrix coordinate real general\n'
MMP='%%MatrixMarket matrix coordinate pattern general\n'

# ---- missing / empty files ----
d=$(new_case missing_labels); rm "$d/labels.txt"
check missing_labels "cannot open labels file .*labels.txt.*No such file" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5"
bad_file empty_edges graph.edges '' "edge file .*graph.edges' is empty"
bad_file empty_features features.mtx '' "features file .*features.mtx' is empty"

# ---- edge list ----
bad_file edge_nonnumeric graph.edges '0 1\n1 x2\n' "graph.edges:2: non-numeric token 'x2'"
bad_file edge_negative graph.edges '0 1\n# c\n2 -3\n' "graph.edges:3: negative node id -3"
bad_file edge_beyond_n graph.edges '0 1\n1 5\n' "graph.edges:2: node id 5 is beyond the node count N=5"

# ---- Matrix Market adjacency ----
bad_file adj_wrong_n graph.edges "${MMP}6 6 1\n1 2\n" "graph.edges:2: adjacency is 6 x 6 .*N=5"
bad_file adj_outside graph.edges "${MMP}5 5 2\n1 2\n6 1\n" "graph.edges:4: entry \(6, 1\) is outside the declared 5 x 5"

# ---- features ----
bad_file feat_no_header features.mtx '5 3 1\n1 1 1\n' "features.mtx:1: not a Matrix Market file"
bad_file feat_bad_field features.mtx '%%MatrixMarket matrix coordinate complex general\n5 3 0\n' "features.mtx:1: unsupported Matrix Market field 'complex'"
bad_file feat_short_header features.mtx '%%MatrixMarket matrix coordinate\n5 3 0\n' "features.mtx:1: malformed Matrix Market header"
bad_file feat_too_few features.mtx "${MM}5 3 3\n1 1 1\n2 2 1\n" "features.mtx: file ends after 2 of the 3 declared entries"
bad_file feat_too_many features.mtx "${MM}5 3 1\n1 1 1\n2 2 1\n" "features.mtx:4: more entries than the 1 declared"
bad_file feat_outside features.mtx "${MM}5 3 1\n2 4 1\n" "features.mtx:3: entry \(2, 4\) is outside the declared 5 x 3 shape"
bad_file feat_nan features.mtx "${MM}5 3 1\n1 1 nan\n" "features.mtx:3: feature value 'nan' .* is NaN or Inf"
bad_file feat_inf features.mtx "${MM}5 3 1\n1 1 -Inf\n" "features.mtx:3: feature value '-Inf' .* is NaN or Inf"
bad_file feat_nonnumeric features.mtx "${MM}5 3 1\n1 1 abc\n" "features.mtx:3: non-numeric token 'abc'"
bad_file feat_rows_vs_labels features.mtx "${MM}4 3 1\n1 1 1\n" "labels.txt:5: more labels than the 4 feature rows"

# ---- labels ----
bad_file labels_short labels.txt '0\n1\n0\n1\n' "labels.txt: 4 labels but the features have 5 rows"
bad_file labels_nonnumeric labels.txt '0\n1\nfoo\n1\n2\n' "labels.txt:3: non-numeric token 'foo'"
bad_file labels_below labels.txt '0\n1\n-2\n1\n2\n' "labels.txt:3: label '-2' is invalid"
bad_file labels_classes labels.txt '0\n1\n0\n1\n2\n' "labels.txt:5: label 2 is outside \[0, 2\) given by --classes 2" --classes 2

# ---- splits ----
bad_file split_range train.idx '0\n5\n' "train.idx:2: node id 5 is out of range: the graph has N=5"
bad_file split_repeat train.idx '0\n1\n0\n' "train.idx:3: node 0 is repeated in the train split \(first at line 1\)"
bad_file split_overlap test.idx '3\n1\n' "test.idx:2: node 1 is also in the train split"
d=$(new_case split_unlabeled); printf '0\n1\n-1\n1\n2\n' >"$d/labels.txt"
check split_unlabeled "val.idx:1: node 2 of the val split has no label" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5"

# ---- options ----
d=$(new_case opt_no_out)
check opt_no_out "import: --out FILE is required" "$d/out" "$ERASE_BIN" import --dir "$d"
d=$(new_case opt_classes)
check opt_classes "--classes: 'seven' is not an integer" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/x.h5" --classes seven
d=$(new_case opt_unknown)
check opt_unknown "unknown option '--bogus'" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/x.h5" --bogus
d=$(new_case opt_no_value)
check opt_no_value "'--out' is unknown or needs a value" "$d/out" "$ERASE_BIN" import --dir "$d" --out
d=$(new_case out_dir_missing)
check out_dir_missing "cannot create output file '$d/out/nodir/x.h5'" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/nodir/x.h5"

# ---- errors found by rank 1, and the first of several (in file order, as a serial parse) ----
d=$(new_case rank1_error)
{ for i in $(seq 20000); do echo "$((i % 4)) $((i % 4 + 1))"; done; echo "1 x"; } >"$d/graph.edges"
check rank1_error "graph.edges:20001: non-numeric token 'x'" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5"
d=$(new_case first_of_two)
{ echo "0 1"; echo "1 2"; echo "2 3"; echo "3 4"; echo "0 9"; for i in $(seq 20000); do echo "1 2"; done
  echo "1 y"; } >"$d/graph.edges"
check first_of_two "graph.edges:5: node id 9 is beyond" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5"
d=$(new_case split_order) # train's repeat (line 3) comes before val's bad token (line 1)
printf '0\n1\n0\n' >"$d/train.idx"; printf 'x\n' >"$d/val.idx"
check split_order "train.idx:3: node 0 is repeated in the train split" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5"
d=$(new_case out_same_file) # the output names an input through another path
check out_same_file "--out '$d/../out_same_file/labels.txt' is also the --labels input" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/../out_same_file/labels.txt"

# ---- gzip-compressed text ----
d=$(new_case gz_truncated)
for i in $(seq 20000); do echo "$((RANDOM % 5)) $((RANDOM % 5))"; done | gzip | head -c 8000 \
  >"$d/graph.edges"
check gz_truncated "graph.edges: gzip stream is truncated" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5"
d=$(new_case gz_corrupt) # a valid stream with its first deflate bytes overwritten
/usr/bin/python3 -c "import gzip, sys; b = bytearray(gzip.compress(open(sys.argv[1], 'rb').read()))
b[10:16] = b'\xff' * 6; open(sys.argv[1], 'wb').write(b)" "$d/labels.txt"
check gz_corrupt "labels.txt: corrupt gzip data \(zlib: invalid block type\)" "$d/out" \
  "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5"

# ---- NumPy .npy inputs (--dir takes them where the text file is missing) ----
PY=/usr/bin/python3
# npy_case NAME TEXT-FILE NPY-FILE PYTHON REGEX [options]: TEXT-FILE replaced by NPY-FILE, which
# PYTHON writes (numpy as np, its path as p; helper put(bytes) overwrites it)
npy_case() {
  local name=$1 text=$2 npyf=$3 code=$4 regex=$5 d
  shift 5
  d=$(new_case "$name")
  rm -f "$d/$text"
  $PY -c "import numpy as np, sys, gzip; p = sys.argv[1]
def put(b): open(p, 'wb').write(b)
$code" "$d/$npyf" || echo "FAIL $name: python"
  check "$name" "$regex" "$d/out" "$ERASE_BIN" import --dir "$d" --out "$d/out/data.h5" "$@"
}
X='np.ones((5, 3), np.float32)'
npy_case npy_truncated features.mtx features.npy "np.save(p, $X); put(open(p, 'rb').read()[:-5])" \
  "features.npy: file is truncated: shape \(5, 3\) of '<f4' needs 60 bytes of data, the file holds 55"
npy_case npy_trailing features.mtx features.npy "np.save(p, $X); put(open(p, 'rb').read() + b'xy')" \
  "features.npy: 2 bytes of trailing garbage after the \(5, 3\) array data"
npy_case npy_dtype features.mtx features.npy "np.save(p, np.ones((5, 3), np.int64))" \
  "features.npy: features dtype '<i8' is not float32 or float64"
npy_case npy_fortran features.mtx features.npy "np.save(p, np.asfortranarray($X))" \
  "features.npy: Fortran-order arrays are not supported"
npy_case npy_nan features.mtx features.npy "a = $X; a[1, 2] = np.nan; np.save(p, a)" \
  "features.npy: feature value nan at row 2, column 3 is NaN or Inf"
npy_case npy_header features.mtx features.npy "put(b'\x93NUMPY\x01\x00\x10\x00{descr: 1}      \n')" \
  "features.npy: malformed .npy header"
npy_case npy_version features.mtx features.npy "np.save(p, $X); b = bytearray(open(p, 'rb').read()); b[6] = 4; put(bytes(b))" \
  "features.npy: .npy format version 4.0 is not supported"
npy_case npy_gzip features.mtx features.npy "np.save(p, $X); put(gzip.compress(open(p, 'rb').read()))" \
  "features.npy: a gzip-compressed .npy file is not supported"
npy_case npy_edge_shape graph.edges edge_index.npy "np.save(p, np.zeros((3, 4), np.int64))" \
  "edge_index.npy: edge index has shape \(3, 4\), expected \(2, E\) or \(E, 2\)"
npy_case npy_edge_beyond graph.edges edge_index.npy "np.save(p, np.array([[0, 1, 2], [1, 2, 5]]))" \
  "edge_index.npy: edge 2: node id 5 is beyond the node count N=5"
npy_case npy_bigendian labels.txt labels.npy "np.save(p, np.array([0, 1, 0, 1, 2], '>i8'))" \
  "labels.npy: big-endian dtype '>i8' is not supported"
npy_case npy_labels_n labels.txt labels.npy "np.save(p, np.array([0, 1, 0, 1]))" \
  "labels.npy: 4 labels but the features have 5 rows"
npy_case npy_mask_n train.idx train_mask.npy "np.save(p, np.ones(4, bool))" \
  "train_mask.npy: mask of 4 entries but the graph has N=5 nodes"
npy_case npy_mask_value train.idx train_mask.npy "np.save(p, np.array([1, 2, 0, 0, 0], np.uint8))" \
  "train_mask.npy: entry 1: mask value 2 is not 0 or 1"
npy_case npy_repeat train.idx train_idx.npy "np.save(p, np.array([0, 1, 0]))" \
  "train_idx.npy: entry 2: node 0 is repeated in the train split \(first at entry 0\)"
npy_case npy_overlap val.idx val_idx.npy "np.save(p, np.array([1], np.int32))" \
  "val_idx.npy: entry 0: node 1 is also in the train split \(.*/train.idx:2\)"

# ---- the OGB layout ----
O=$T/ogbgood
mkdir -p "$O/raw" "$O/split/s"
printf '0,1\n1,2\n2,3\n3,4\n' >"$O/raw/edge.csv"
printf '1,0,0\n0,0.5,0\n0,0,0\n0,0,2\n-1,0,0\n' >"$O/raw/node-feat.csv"
printf '0\n1\n0\n1\n2\n' >"$O/raw/node-label.csv"
printf '5\n' >"$O/raw/num-node-list.csv"
printf '0\n1\n' >"$O/split/s/train.csv"; printf '2\n' >"$O/split/s/valid.csv"; printf '3\n4\n' >"$O/split/s/test.csv"
# ogb_case NAME FILE CONTENT REGEX [options]: the OGB inputs with FILE (under DIR) replaced
ogb_case() {
  local name=$1 file=$2 content=$3 regex=$4 d=$T/$1
  shift 4
  rm -rf "$d"; cp -r "$O" "$d"; mkdir -p "$d/out"
  if [ -n "$file" ]; then printf '%b' "$content" >"$d/$file"; fi
  check "$name" "$regex" "$d/out" "$ERASE_BIN" import --ogb "$d" --out "$d/out/data.h5" "$@"
}
ogb_case ogb_count raw/num-node-list.csv '5\n6\n' "num-node-list.csv: expected one positive integer \(the node count\), found '5' and more"
ogb_case ogb_rows raw/node-feat.csv '1,0,0\n0,0.5,0\n0,0,0\n0,0,2\n' "node-feat.csv: 4 rows but the graph has N=5 nodes"
ogb_case ogb_cols raw/node-feat.csv '1,0,0\n0,0.5\n0,0,0\n0,0,2\n-1,0,0\n' "node-feat.csv:2: expected 3 comma-separated values \(as on the first row\), found 2"
ogb_case ogb_label raw/node-label.csv '0\nabc\n0\n1\n2\n' "node-label.csv:2: non-numeric token 'abc'"
ogb_case ogb_edge raw/edge.csv '0,1\n1;2\n' "edge.csv:2: expected two node ids 'u,v'"
ogb_case ogb_missing "" "" "OGB dataset '.*' has no split 'x'" --ogb-split x
d=$(new_case ogb_combined)
check ogb_combined "import: --edges cannot be combined with --ogb" "$d/out" \
  "$ERASE_BIN" import --ogb "$O" --edges "$d/graph.edges" --out "$d/out/data.h5"
check ogb_not_dir "import: --ogb '$T/nowhere' is not a directory" "" \
  "$ERASE_BIN" import --ogb "$T/nowhere" --out "$T/nowhere.h5"

# ---- info on broken files ----
d=$(new_case info_files)
if "$MPIEXEC" -n 1 "$ERASE_BIN" import --dir "$d" --out "$d/good.h5" >/dev/null 2>&1 &&
  [ -s "$d/good.h5" ]; then
  size=$(stat -c %s "$d/good.h5")
  head -c $((size / 2)) "$d/good.h5" >"$d/half.h5"
  check info_truncated "'$d/half.h5'.*(truncated|corrupt)" "" "$ERASE_BIN" info "$d/half.h5"
  printf 'this is not hdf5\n' >"$d/text.h5"
  check info_not_hdf5 "'$d/text.h5' is not an HDF5 file" "" "$ERASE_BIN" info "$d/text.h5"
  check info_missing "cannot open '$d/none.h5'" "" "$ERASE_BIN" info "$d/none.h5"
  check info_no_arg "info: expected one argument" "" "$ERASE_BIN" info
  # the good file itself must pass info (guards against a script that can only fail)
  wait
  if "$MPIEXEC" -n 2 "$ERASE_BIN" info "$d/good.h5" >"$T/info_good.out" 2>&1 &&
    grep -q '^nodes *5$' "$T/info_good.out" &&
    grep -q 'train 2, val 1, test 2' "$T/info_good.out"; then
    good="PASS info_good_file"
  else
    good="FAIL info_good_file: $(cat "$T/info_good.out")"
  fi
else
  good="FAIL info_files: importing the good inputs failed"
fi
wait
for f in "$T"/result.*; do cat "$f"; done
echo "$good"
pass=$(cat "$T"/result.* | grep -c '^PASS')
fail=$(cat "$T"/result.* | grep -c '^FAIL')
case $good in PASS*) pass=$((pass + 1)) ;; *) fail=$((fail + 1)) ;; esac
[ $((pass + fail)) = $((ncase + 1)) ] || { echo "lost results"; fail=$((fail + 1)); }

echo "bad_input_import: $pass passed, $fail failed"
[ "$fail" = 0 ]
