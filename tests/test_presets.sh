#!/usr/bin/env bash
# test_presets.sh: `train --preset NAME` applies configs/NAME.ini (ERASE.md section 8), a --config
# file overrides the preset and the command line overrides both; an unknown preset is one error
# line naming the presets there are. The values are read back from the run's /config attribute.
set -uo pipefail
: "${ERASE_BIN:?}" "${MPIEXEC:?}" "${ER_MKFIXTURE:?}"
T=$(mktemp -d /tmp/er_presets.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
"$MPIEXEC" -n 1 "$ER_MKFIXTURE" "$T/g.h5" 6 6 >/dev/null || { echo "mkfixture failed"; exit 1; }
conf() { # run ARGS... -> prints the stored config
  "$MPIEXEC" -n 1 "$ERASE_BIN" train --data "$T/g.h5" --epochs 1 --hidden 8 --heads 2 --embed 8 \
    --feature-norm none --quiet 1 --out "$T/run.h5" "$@" >"$T/log" 2>&1 || { cat "$T/log"; return 1; }
  h5dump -a /config "$T/run.h5" | sed -n 's/^ *\([A-Za-z0-9_-]*\) = \(.*\)$/\1=\2/p'
}
want() { # NAME KEY VALUE: the stored config has KEY = VALUE (as %.17g prints it)
  grep -qx "$2=$3" "$T/$1.conf" || { echo "FAIL $1: $2 is $(grep "^$2=" "$T/$1.conf"), want $3"; fail=1; }
}
conf --preset citeseer >"$T/citeseer.conf" || fail=1
want citeseer eps 0.40000000000000002
want citeseer beta 0.69999999999999996
want citeseer T 4
want citeseer gamma2 2
want citeseer lr 0.001 # not in the preset: the default
printf 'eps = 0.2\nT = 3\n' >"$T/mine.ini"
conf --preset pubmed --config "$T/mine.ini" --T 2 >"$T/order.conf" || fail=1
want order gamma2 3                    # preset
want order eps 0.20000000000000001     # --config over the preset
want order T 2                         # command line over both
conf --preset cora >"$T/cora.conf" || fail=1
conf >"$T/none.conf" || fail=1
cmp -s "$T/cora.conf" "$T/none.conf" || { echo "FAIL: the cora preset is not the defaults"; fail=1; }
out=$("$MPIEXEC" -n 2 "$ERASE_BIN" train --data "$T/g.h5" --preset nosuch 2>&1 >/dev/null)
[ "$(grep -c '^erase-mpi: error:' <<<"$out")" = 1 ] &&
  grep -q "no preset 'nosuch' (presets: citeseer, cora, corafull or pubmed)" <<<"$out" ||
  { echo "FAIL unknown preset: $out"; fail=1; }
"$ERASE_BIN" train --help | grep -q -- "--preset NAME .*citeseer, cora, corafull or pubmed" ||
  { echo "FAIL: --help does not list the presets"; fail=1; }
[ $fail = 0 ] && echo "test_presets: PASS" || echo "test_presets: FAIL"
exit $fail
