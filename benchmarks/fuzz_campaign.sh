#!/usr/bin/env bash
# fuzz_campaign.sh [SCALE]: the long fuzzing campaign of benchmarks/RESULTS.md (Fuzzing).
# Builds the harnesses (scripts/fuzz.sh build), then runs every ci target one after the other,
# one process each (no -jobs/-workers), at nice 10, for its share of the executions: about 10
# million in all, the fast parsers taking most, the HDF5-backed targets what an hour allows
# (SCALE multiplies every budget, default 1). Each target replays its corpus first and stops
# at its first crash (the input is kept). Logs, grown corpora and artifacts go to
# benchmarks/out/fuzz/NAME/; the summary (one line per target: executions, seconds, cov, ft,
# new corpus files, verdict) to benchmarks/out/fuzz/summary.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scale=${1:-1}
out=$root/benchmarks/out/fuzz
mkdir -p "$out"
export ERASE_FUZZ_OUT=$out
# a wall-clock cap per target, in case the machine is slower than planned
export ERASE_FUZZ_FLAGS="-max_total_time=${ERASE_FUZZ_CAP:-10800}"
declare -A budget=([parse]=6500000 [options]=2500000 [ckpt_whole]=1000000 [dataset]=40000
                   [ckpt_read]=30000)
nice -n 10 "$root/scripts/fuzz.sh" build || exit 1
bdir=${ERASE_FUZZ_BUILD:-$root/build-fuzz}
: >"$out/summary.txt"
fail=0
start=$(date +%s)
for name in $(awk '$2 == "ci" { print $1 }' "$bdir/fuzz_targets.txt"); do
  runs=$(awk -v b="${budget[$name]:-100000}" -v s="$scale" 'BEGIN { printf "%d", b * s }')
  nice -n 10 "$root/scripts/fuzz.sh" run "runs=$runs" "$name" | tee -a "$out/summary.txt" || fail=1
done
total=$(grep -oE 'executions [0-9]+' "$out/summary.txt" | awk '{ s += $2 } END { print s }')
echo "campaign: $total executions in $(( $(date +%s) - start )) s" | tee -a "$out/summary.txt"
exit $fail
