#!/bin/bash
# test_loss_bench_smoke.sh: runs benchmarks/bench_loss_crossover.sh on tiny sizes and checks that
# it prints a table with one row per d and a crossover line. Timings themselves are not checked.
set -euo pipefail
out=$(BENCH_LOSS="$(dirname "$ERASE_BIN")/tests/bench_loss" BENCH_D="16 32" BENCH_K="3" \
      BENCH_P="1 2" BENCH_N=512 BENCH_REPS=1 bash "$ER_SOURCE_DIR/benchmarks/bench_loss_crossover.sh")
echo "$out"
rows=$(echo "$out" | grep -cE '^\| (16|32) \|')
[ "$rows" -eq 2 ] || { echo "FAIL: expected 2 table rows, got $rows"; exit 1; }
echo "$out" | grep -q '^crossover' || { echo "FAIL: no crossover line"; exit 1; }
echo "test_loss_bench_smoke: PASS"
