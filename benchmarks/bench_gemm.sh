#!/usr/bin/env bash
# bench_gemm.sh [ROWS] [REPS]: the sgemm rate of the epoch's shapes (build/tests/bench_gemm), one
# process alone, then each of two processes running at once (two ranks on this machine). The
# two-at-once RATE is what bench_scale.sh's floor uses. OPENBLAS_CORETYPE is left as it is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_GEMM:-$root/build/tests/bench_gemm}
N=${1:-500000}; R=${2:-3}
[ -x "$BIN" ] || { echo "bench_gemm: $BIN not built" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
echo "host: $(nproc) cores; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== one process"
"$BIN" "$N" "$R"
out=$(mktemp -d)
"$BIN" "$N" "$R" > "$out/a" & "$BIN" "$N" "$R" > "$out/b" & wait
echo "== two at once"
cat "$out/a" "$out/b"
rm -rf "$out"
