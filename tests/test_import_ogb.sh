#!/usr/bin/env bash
# test_import_ogb.sh: `erase-mpi import --ogb DIR` reads the Open Graph Benchmark node-property
# layout. An OGB copy of Cora (import_copies.py: raw/*.csv.gz, split/random/*.csv.gz) and its
# uncompressed twin (.csv) are imported at 2 and 3 ranks; both must equal the import of the text
# files (info lines but the source, with the graph and feature checksums, and the h5dump of the
# labels and splits). Missing labels (an empty line, "nan") become -1, --ogb-split picks one of
# several splits. Needs ERASE_BIN, MPIEXEC, ER_CORA_DIR and /usr/bin/python3 with numpy.
set -u
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
CORA=${ER_CORA_DIR:-}
[ -r "$CORA/graph.edges" ] || { echo "SKIP: no Cora at '$CORA'"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d /tmp/er_import_ogb.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

run() { # NAME NP import-args...: import into $T/NAME.h5
  local name=$1 np=$2
  shift 2
  timeout 120 "$MPIEXEC" -n "$np" --oversubscribe "$ERASE_BIN" import "$@" --out "$T/$name.h5" \
    >"$T/$name.log" 2>&1 ||
    { bad "import $name at $np ranks: $(grep error "$T/$name.log" | head -1)"; return 1; }
}
content() { # FILE: what must agree between the formats
  "$ERASE_BIN" info "$1" | grep -v -e '^dataset' -e '^source'
  h5dump -d /labels -d /split/train -d /split/val -d /split/test "$1" | sed 1d
}

{ $PY "$HERE/import_copies.py" ogb "$CORA" "$T/ogb" &&
  $PY "$HERE/import_copies.py" ogbcsv "$CORA" "$T/ogbcsv"; } ||
  { echo "FAIL writing the copies"; exit 1; }
run text 1 --dir "$CORA" && content "$T/text.h5" >"$T/text.c"
for case in "ogb 2" "ogb 3" "ogbcsv 2"; do
  read -r kind np <<<"$case"
  run $kind$np $np --ogb "$T/$kind" || continue
  content "$T/$kind$np.h5" >"$T/$kind$np.c"
  if cmp -s "$T/text.c" "$T/$kind$np.c"; then echo "ok   $kind at $np ranks == text import"
  else
    bad "$kind at $np ranks differs from the text import"
    diff "$T/text.c" "$T/$kind$np.c" | head
  fi
done
grep -q "source *import:$T/ogb/raw/edge.csv.gz" <("$ERASE_BIN" info "$T/ogb2.h5") ||
  bad "source attribute of the OGB import: $("$ERASE_BIN" info "$T/ogb2.h5" | grep source)"

# missing labels: node 1000 empty, node 1001 "nan" (neither is in a split)
cp -r "$T/ogbcsv" "$T/missing"
$PY - "$T/missing/raw/node-label.csv" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
lines[1000], lines[1001] = "", "nan"
open(sys.argv[1], "w").write("\n".join(lines))
EOF
if run missing 2 --ogb "$T/missing"; then
  got=$(h5dump -A 0 -d /labels -s 999 -c 4 "$T/missing.h5" | grep -A1 'DATA {' | tail -1 | tr -d ' ')
  want=$(h5dump -A 0 -d /labels -s 999 -c 4 "$T/text.h5" | grep -A1 'DATA {' | tail -1 | tr -d ' ' |
    awk -F'[:,]' '{print $1 ":" $2 ",-1,-1," $5}')
  [ "$got" = "$want" ] && echo "ok   missing labels (empty, nan) are -1: $got" ||
    bad "missing labels: got '$got', want '$want'"
fi

# several splits: refused without --ogb-split, the named one taken with it
cp -r "$T/ogb" "$T/two"
mkdir -p "$T/two/split/other"
printf '0\n' | gzip >"$T/two/split/other/train.csv.gz"
printf '1\n' | gzip >"$T/two/split/other/valid.csv.gz"
printf '2\n' | gzip >"$T/two/split/other/test.csv.gz"
if timeout 60 "$MPIEXEC" -n 2 "$ERASE_BIN" import --ogb "$T/two" --out "$T/two.h5" \
  >"$T/two.log" 2>&1; then
  bad "two splits without --ogb-split were accepted"
else
  grep -q "error: OGB dataset '$T/two' has 2 splits (other, random): choose one with --ogb-split" \
    "$T/two.log" && echo "ok   two splits need --ogb-split" ||
    bad "two splits: $(grep error "$T/two.log")"
fi
[ -e "$T/two.h5" ] && bad "a file was left after the refused import"
if run other 2 --ogb "$T/two" --ogb-split other; then
  "$ERASE_BIN" info "$T/other.h5" | grep -q "splits      train 1, val 1, test 1" &&
    echo "ok   --ogb-split other" ||
    bad "--ogb-split other: $("$ERASE_BIN" info "$T/other.h5" | grep splits)"
fi
[ $fail = 0 ] && echo "test_import_ogb: PASS" || echo "test_import_ogb: FAIL"
exit $fail
