#!/bin/bash
# test_ncuts.sh: `partition --ncuts N` on Cora at 2 ranks (bad values: bad_input_partition.sh).
#  1. --ncuts 1 stores the same /partitions/<P> owners as no flag, byte for byte (metis and
#     ptscotch, P = 2 and 8), with the attribute ncuts = 1.
#  2. PT-Scotch, seed 1, P = 2 and 8: the total ghosts with --ncuts 4 are at most those with
#     --ncuts 1; the log's per-try ghosts start with the --ncuts 1 run's, and the stored
#     partition's ghosts (the log's total, the `ghosts` attribute and a count from the stored
#     owners) equal their minimum, at the first try that reaches it; the stored owners are those
#     of an --ncuts 1 run with the seed the log names as kept.
#  3. METIS, seed 1, P = 8: --ncuts 4 gives an edge cut (--objective cut) and total ghosts
#     (--objective vol) no worse than --ncuts 1 (its first cut is the --ncuts 1 one).
set -u
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
[ -f "${ER_CORA_DIR:-}/graph.edges" ] || { echo "SKIP: Cora not found"; exit 77; }
T=$(mktemp -d /tmp/er_ncuts.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }
PY=/usr/bin/python3
"$ERASE_BIN" import --dir "$ER_CORA_DIR" --out "$T/cora.h5" > /dev/null || { echo "import failed"; exit 1; }

# part NAME ARGS...: a 2-rank partition of its own link to cora.h5 (so its own sidecar)
part() {
  local name=$1
  shift
  ln -sfn "$T/cora.h5" "$T/$name.h5"
  "$MPIEXEC" -n 2 "$ERASE_BIN" partition --data "$T/$name.h5" --seed 1 --quiet "$@" \
    > "$T/$name.out" 2> "$T/$name.err" || { bad "partition $name $*: $(cat "$T/$name.err")"; return 1; }
}
owners() { h5dump -A 0 -d "/partitions/$2" "$T/$1.partitions.h5" | tail -n +2 | md5sum; }
ghosts() { sed -n 's/.*ghosts: total \([0-9]*\),.*/\1/p' "$T/$1.out"; }
cut() { sed -n 's/.*edge cut: \([0-9]*\) of.*/\1/p' "$T/$1.out"; }
attr() { # attr NAME P KEY: an attribute of /partitions/P
  $PY -c 'import h5py, sys; print(int(h5py.File(sys.argv[1])["partitions"][sys.argv[2]].attrs[sys.argv[3]]))' \
    "$T/$1.partitions.h5" "$2" "$3"
}
count_ghosts() { # count_ghosts NAME P: total ghosts of the stored owners, from the graph
  $PY - "$T/cora.h5" "$T/$1.partitions.h5" "$2" << 'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f, h5py.File(sys.argv[2]) as s:
    indptr, indices = f["graph/indptr"][:], f["graph/indices"][:]
    owner = s["partitions"][sys.argv[3]][:]
rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
off = owner[indices] != owner[rows]  # v = rows[k] is a ghost of part owner[indices[k]]
print(len(set(zip(rows[off].tolist(), owner[indices[off]].tolist()))))
EOF
}

# ---- 1. --ncuts 1 is the default, byte for byte ---------------------------------------------
for m in metis ptscotch; do
  for P in 2 8; do
    part "d_${m}_$P" --parts $P --method $m && part "n1_${m}_$P" --parts $P --method $m --ncuts 1 ||
      continue
    [ "$(owners "d_${m}_$P" $P)" = "$(owners "n1_${m}_$P" $P)" ] ||
      bad "$m P=$P: --ncuts 1 stored other owners than no flag"
    [ "$(attr "n1_${m}_$P" $P ncuts)" = 1 ] || bad "$m P=$P: attribute ncuts is not 1"
    grep -q "seed 1, ncuts 1)" "$T/n1_${m}_$P.out" || bad "$m P=$P: the log line lacks 'ncuts 1'"
    echo "ok   $m P=$P --ncuts 1: same owners as no flag ($(ghosts "d_${m}_$P") ghosts)"
  done
done

# ---- 2. PT-Scotch keeps the try with the fewest ghosts -------------------------------------
for P in 2 8; do
  part "s4_$P" --parts $P --method ptscotch --ncuts 4 || continue
  g1=$(ghosts "d_ptscotch_$P") g4=$(ghosts "s4_$P")
  line=$(grep '^  tries: ghosts' "$T/s4_$P.out")
  # "  tries: ghosts 328, 273, 283, 273; kept try 1 (seed 3)"
  read -r -a tries <<< "$(echo "$line" | sed 's/.*tries: ghosts \([0-9, ]*\);.*/\1/; s/,//g')"
  kept=$(echo "$line" | sed -n 's/.*kept try \([0-9]*\) (seed \([0-9]*\)).*/\1/p')
  kseed=$(echo "$line" | sed -n 's/.*kept try [0-9]* (seed \([0-9]*\)).*/\1/p')
  [ ${#tries[@]} -eq 4 ] && [ -n "$kept" ] && [ -n "$kseed" ] ||
    { bad "ptscotch P=$P --ncuts 4: no parsable tries line: '$line'"; continue; }
  min=${tries[0]} first=-1
  for t in 0 1 2 3; do [ "${tries[$t]}" -lt "$min" ] && min=${tries[$t]}; done
  for t in 3 2 1 0; do [ "${tries[$t]}" -eq "$min" ] && first=$t; done
  [ -n "$g1" ] && [ -n "$g4" ] && [ "$g4" -le "$g1" ] ||
    bad "ptscotch P=$P: --ncuts 4 has $g4 ghosts, --ncuts 1 has $g1"
  [ "${tries[0]}" = "$g1" ] || bad "ptscotch P=$P: try 0 has ${tries[0]} ghosts, --ncuts 1 $g1"
  [ "$g4" = "$min" ] || bad "ptscotch P=$P: kept $g4 ghosts, the tries' minimum is $min"
  [ "$kept" = "$first" ] || bad "ptscotch P=$P: kept try $kept, the first minimum is try $first"
  [ "$(attr "s4_$P" $P ghosts)" = "$min" ] || bad "ptscotch P=$P: attribute ghosts is not $min"
  [ "$(attr "s4_$P" $P ncuts)" = 4 ] || bad "ptscotch P=$P: attribute ncuts is not 4"
  counted=$(count_ghosts "s4_$P" $P)
  [ "$counted" = "$min" ] || bad "ptscotch P=$P: the stored owners have $counted ghosts, not $min"
  # the kept try is the --ncuts 1 partition of its seed
  ln -sfn "$T/cora.h5" "$T/k_$P.h5"
  "$MPIEXEC" -n 2 "$ERASE_BIN" partition --data "$T/k_$P.h5" --parts $P --method ptscotch \
    --seed "$kseed" --quiet > /dev/null 2>&1 || bad "partition --seed $kseed failed"
  [ "$(owners "s4_$P" $P)" = "$(owners "k_$P" $P)" ] ||
    bad "ptscotch P=$P: the kept owners differ from --seed $kseed --ncuts 1"
  echo "ok   ptscotch P=$P --ncuts 4: tries ${tries[*]} ghosts, kept try $kept (seed $kseed," \
    "$g4 ghosts; --ncuts 1: $g1)"
done

# ---- 3. METIS keeps its best objective ------------------------------------------------------
part mc1 --parts 8 --method metis --objective cut && part mc4 --parts 8 --objective cut --ncuts 4 &&
  { [ "$(cut mc4)" -le "$(cut mc1)" ] || bad "metis cut: --ncuts 4 cut $(cut mc4) > $(cut mc1)"
    echo "ok   metis P=8 objective cut: edge cut $(cut mc1) -> $(cut mc4) with --ncuts 4"; }
part mv1 --parts 8 --objective vol && part mv4 --parts 8 --objective vol --ncuts 4 &&
  { [ "$(ghosts mv4)" -le "$(ghosts mv1)" ] ||
      bad "metis vol: --ncuts 4 ghosts $(ghosts mv4) > $(ghosts mv1)"
    [ "$(attr mv4 8 ncuts)" = 4 ] || bad "metis vol: attribute ncuts is not 4"
    echo "ok   metis P=8 objective vol: ghosts $(ghosts mv1) -> $(ghosts mv4) with --ncuts 4"; }
exit $fail
