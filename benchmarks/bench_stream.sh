#!/usr/bin/env bash
# bench_stream.sh [MFLOATS] [REPS]: memory bandwidth of one process alone, then of each of two
# processes running at once (what two ranks on this machine share), for a streaming triad and
# random gathers of 256- and 512-float rows (plain and with the kernels' prefetch 2 rows ahead).
# Needs build/tests/bench_stream.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_STREAM:-$root/build/tests/bench_stream}
M=${1:-100}; R=${2:-5}
[ -x "$BIN" ] || { echo "bench_stream: $BIN not built" >&2; exit 1; }
echo "host: $(nproc) cores; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
for W in 512 256; do
  echo "W=$W one process:  $("$BIN" "$M" "$R" "$W")"
  out=$(mktemp -d)
  "$BIN" "$M" "$R" "$W" > "$out/a" & "$BIN" "$M" "$R" "$W" > "$out/b" & wait
  echo "W=$W two at once:  $(cat "$out/a")"
  echo "                   $(cat "$out/b")"
  rm -rf "$out"
done
