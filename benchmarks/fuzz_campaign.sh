#!/usr/bin/env bash
# fuzz_campaign.sh [SCALE [NAME...]]: the long fuzzing campaign of benchmarks/RESULTS.md
# (Fuzzing). With names, only those targets run and their lines are appended to the summary
# (to go on after a crash was fixed).
# Builds the harnesses (scripts/fuzz.sh build), then runs every ci target one after the other,
# one process each (no -jobs/-workers), at nice 10, for its share of the executions (the fast
# parsers taking most, every target at least a few minutes; SCALE multiplies every budget,
# default 1). A target stops at its budget, at its wall-clock cap (seconds: the HDF5-backed
# dataset target and the in-memory text and npy parsers are capped rather than counted) or at
# its first crash (the input is kept). Each target replays its corpus first. Logs, grown corpora
# and artifacts go to benchmarks/out/fuzz/NAME/; the summary (one line per target: executions,
# seconds, cov, ft, new corpus files, verdict) to benchmarks/out/fuzz/summary.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scale=${1:-1}
shift || true
out=$root/benchmarks/out/fuzz
mkdir -p "$out"
export ERASE_FUZZ_OUT=$out
# executions per target and a wall-clock cap per target (seconds, times SCALE), sized for a
# shared 2-core machine: about 50 minutes in all (text and npy: 10 minutes each, by the cap)
declare -A budget=([parse]=8000000 [options]=1200000 [log_resume]=500000 [ckpt_whole]=300000
                   [dataset]=1000000 [ckpt_read]=30000 [text]=50000000 [npy]=200000000)
declare -A cap=([parse]=600 [options]=600 [log_resume]=300 [ckpt_whole]=300 [dataset]=300
                [ckpt_read]=300 [text]=600 [npy]=600)
nice -n 10 "$root/scripts/fuzz.sh" build || exit 1
bdir=${ERASE_FUZZ_BUILD:-$root/build-fuzz}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(awk '$2 == "ci" { print $1 }' "$bdir/fuzz_targets.txt")
  : >"$out/summary.txt"
fi
fail=0
start=$(date +%s)
for name in "${names[@]}"; do
  runs=$(awk -v b="${budget[$name]:-100000}" -v s="$scale" 'BEGIN { printf "%d", b * s }')
  secs=$(awk -v b="${cap[$name]:-180}" -v s="$scale" 'BEGIN { printf "%d", b * s }')
  ERASE_FUZZ_FLAGS="-max_total_time=$secs" nice -n 10 "$root/scripts/fuzz.sh" run "runs=$runs" \
    "$name" | tee -a "$out/summary.txt" || fail=1
done
total=$(grep -oE '^fuzz_.*executions [0-9]+' "$out/summary.txt" |
  awk '{ s += $NF } END { print s }')
echo "campaign: ${names[*]} in $(( $(date +%s) - start )) s; $total executions in the summary" |
  tee -a "$out/summary.txt"
exit $fail
