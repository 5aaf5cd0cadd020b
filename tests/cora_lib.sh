# cora_lib.sh: the start every Cora training test shares (source it with a name):
#   source "$(dirname "$0")/cora_lib.sh" NAME
# skips (exit 77) without ../shared/data/cora; otherwise makes $T (/tmp/er_NAME.XXXXXX, removed
# on exit) holding cora.h5, imported from $ER_CORA_DIR, with its METIS partitions for 2 and 4
# ranks stored beside it.
: "${ERASE_BIN:?}" "${MPIEXEC:?}" "${1:?cora_lib.sh needs a name}"
[ -f "${ER_CORA_DIR:-}/graph.edges" ] || { echo "SKIP: Cora not found"; exit 77; }
T=$(mktemp -d "/tmp/er_$1.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$ERASE_BIN" import --dir "$ER_CORA_DIR" --out "$T/cora.h5" > /dev/null || exit 1
for p in 2 4; do
  "$MPIEXEC" -n $p "$ERASE_BIN" partition --data "$T/cora.h5" --parts $p > /dev/null || exit 1
done
