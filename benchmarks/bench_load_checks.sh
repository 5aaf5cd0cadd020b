#!/usr/bin/env bash
# bench_load_checks.sh DATA [RUNS] [RANKS...]: the cost of checking a dataset on load. Runs
# `train --epochs 1` (tiny model, contiguous-block partition) RUNS times at each rank count,
# alternating, and prints from the JSON log's setup line rank 0's whole dataset load
# (er_dgraph_create), the seconds of its checks (CSR structure, symmetry, labels, splits, owners,
# finite features) and of its checksums, with their shares; then the medians per rank count.
#   benchmarks/bench_load_checks.sh /tmp/g1m.h5 3 1 2
set -euo pipefail
DATA=${1:?usage: bench_load_checks.sh DATA [RUNS] [RANKS...]}
RUNS=${2:-3}
shift $(($# > 2 ? 2 : $#))
RANKS=("$@")
[ ${#RANKS[@]} -gt 0 ] || RANKS=(1 2)
here=$(cd "$(dirname "$0")" && pwd)
BIN=${ERASE_BIN:-$here/../build/erase-mpi}
# shellcheck source=scripts/env.sh
. "$here/../scripts/env.sh"
T=$(mktemp -d /tmp/er_bench_load.XXXXXX)
trap 'rm -rf "$T"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 1; i <= RUNS; i++)); do
  for P in "${RANKS[@]}"; do
    mpirun -n "$P" "$BIN" train --data "$DATA" --epochs 1 --hidden 8 --heads 1 --embed 16 \
      --partition block --quiet 1 --log-json "$T/l$P-$i.jsonl" >/dev/null
    head -1 "$T/l$P-$i.jsonl" | /usr/bin/python3 -c '
import json, sys
l = json.loads(sys.stdin.read())["load"]
print(sys.argv[1], sys.argv[2], "%.2f %.3f %.3f" % (l["total_s"], l["check_s"], l["digest_s"]))' \
      "$P" "$i" | tee -a "$T/all"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$T/all" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print("ranks  load_s  check_s  (share)  digest_s  (share)   medians over runs")
for p in sorted({r[0] for r in rows}, key=int):
    t, c, d = (statistics.median(float(r[k]) for r in rows if r[0] == p) for k in (2, 3, 4))
    print(f"{p:>5}  {t:6.2f}  {c:7.3f}  ({100*c/t:4.1f}%)  {d:8.3f}  ({100*d/t:4.1f}%)")
PY
