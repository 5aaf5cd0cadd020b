#!/usr/bin/env bash
# test_import_ranks.sh: `erase-mpi import` writes the same dataset at any rank count and from
# any input format. Cora imported at 1, 2, 3 and 4 ranks: every dataset and attribute
# (h5dump) and `erase-mpi info` (with its checksums) identical, and the checksums those of the
# serial importer; Cora as CRLF text, gzip-compressed text and two .npy layouts (written by
# import_copies.py with numpy alone) at 1, 2, 4 ranks: the info lines but the source (graph and
# feature checksums) and the other datasets' h5dump identical to the text import. The shuffled
# copy (feature cells and edge lines in random order) sends most items to another rank.
# Needs ERASE_BIN, MPIEXEC, ER_CORA_DIR and /usr/bin/python3 with numpy.
set -u
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
CORA=${ER_CORA_DIR:-}
[ -r "$CORA/graph.edges" ] || { echo "SKIP: no Cora at '$CORA'"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d /tmp/er_import_ranks.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

# The checksums of Cora as the serial (one-rank, whole-file) importer wrote it.
GRAPH_SUM=7aaaa40b8c09da47 FEATURE_SUM=5bf011536c052038

# import NAME NP DIR: DIR's inputs at NP ranks into $T/NAME.h5
import() {
  timeout 120 "$MPIEXEC" -n "$2" --oversubscribe "$ERASE_BIN" import --dir "$3" \
    --out "$T/$1.h5" >"$T/$1.log" 2>&1 ||
    { bad "import $1 at $2 ranks: $(grep error "$T/$1.log" | head -1)"; return 1; }
}
# content FILE: info without the file name and source (its checksums cover the graph and the
# features), and the h5dump of every other dataset
content() {
  "$ERASE_BIN" info "$1" | grep -v -e '^dataset' -e '^source'
  h5dump -d /graph/indptr -d /labels -d /split/train -d /split/val -d /split/test "$1" |
    sed 1d | md5sum
}
# everything FILE: all of h5dump (datasets and attributes, source included) and info
everything() {
  "$ERASE_BIN" info "$1" | grep -v '^dataset'
  h5dump "$1" | sed 1d | md5sum
}

#---- the text inputs at 1, 2, 3, 4 ranks ----
for np in 1 2 3 4; do
  import text$np $np "$CORA" || continue
  everything "$T/text$np.h5" >"$T/text$np.all"
done
grep -q "checksums   graph $GRAPH_SUM, features $FEATURE_SUM" "$T/text1.all" ||
  bad "checksums differ from the serial importer's: $(grep checksums "$T/text1.all")"
for np in 2 3 4; do
  if cmp -s "$T/text1.all" "$T/text$np.all"; then
    echo "ok   text: $np ranks == 1 rank (h5dump, info)"
  else
    bad "text: $np ranks differ from 1 rank"
    diff "$T/text1.all" "$T/text$np.all" | head
  fi
done
content "$T/text1.h5" >"$T/ref"

#---- other formats of the same data ----
for kind in crlf gzip shuffled npy npy2; do
  $PY "$HERE/import_copies.py" $kind "$CORA" "$T/$kind" ||
    { bad "writing the $kind copy"; continue; }
  for np in 1 2 4; do
    import $kind$np $np "$T/$kind" || continue
    content "$T/$kind$np.h5" >"$T/$kind$np.c"
    if cmp -s "$T/ref" "$T/$kind$np.c"; then echo "ok   $kind at $np ranks == text"
    else
      bad "$kind at $np ranks differs from the text import"
      diff "$T/ref" "$T/$kind$np.c" | head
    fi
  done
done
grep -q "features 0.*labels" "$T/npy1.log" || bad "no stage timing in the summary"
[ $fail = 0 ] && echo "test_import_ranks: PASS" || echo "test_import_ranks: FAIL"
exit $fail
