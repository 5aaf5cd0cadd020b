#!/bin/bash
# bench_loss_crossover.sh: measures MCR² forward+backward time (median of BENCH_REPS) for the
# replicated-LAPACK and ScaLAPACK solvers over d, K and rank counts, prints markdown tables and the
# crossover d per (K, ranks). It does not change the code: copy the result into
# er_mcr2_scalapack_min_d (src/loss/mcr2.c) and benchmarks/RESULTS.md by hand.
#
# Environment (defaults): BENCH_LOSS (build/tests/bench_loss), BENCH_D ("64 128 256 512 1024"),
# BENCH_K ("7 10"), BENCH_P ("1 2 4"; more ranks than cores are oversubscribed), BENCH_N (8192
# global rows), BENCH_REPS (5), MPIEXEC (mpirun).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${BENCH_LOSS:-$here/../build/tests/bench_loss}
DS=${BENCH_D:-"64 128 256 512 1024"}
KS=${BENCH_K:-"7 10"}
PS=${BENCH_P:-"1 2 4"}
N=${BENCH_N:-8192}
REPS=${BENCH_REPS:-5}
MPIEXEC=${MPIEXEC:-mpirun}
[ -x "$BIN" ] || { echo "bench_loss_crossover: driver not found: $BIN (build the project)" >&2; exit 1; }

. "$here/../scripts/env.sh" # root, oversubscription, loopback, yield, one BLAS thread, MTLs

klist=$(echo $KS | tr ' ' ',')
dlist=$(echo $DS | tr ' ' ',')
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
for p in $PS; do
  "$MPIEXEC" -n "$p" --oversubscribe "$BIN" "$N" "$REPS" "$klist" "$dlist" | grep '^RESULT' >>"$raw"
done

echo "MCR² forward+backward, float Z, N=$N global rows, median of $REPS, seconds;"
echo "in parentheses: the logdet/inverse part (solve_s). OPENBLAS_NUM_THREADS=1, $(nproc) cores."
awk -v DS="$DS" -v KS="$KS" -v PS="$PS" '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["P"] SUBSEP f["d"] SUBSEP f["K"] SUBSEP f["solver"]
    t[key] = f["median_s"]; s[key] = f["solve_s"] }
  END {
    nd = split(DS, d, " "); nk = split(KS, k, " "); np = split(PS, p, " ")
    for (a = 1; a <= nk; a++) {
      printf "\nK = %s\n\n| d |", k[a]
      for (b = 1; b <= np; b++) printf " P=%s LAPACK | P=%s ScaLAPACK |", p[b], p[b]
      printf "\n|---|"; for (b = 1; b <= np; b++) printf "---|---|"; printf "\n"
      for (c = 1; c <= nd; c++) {
        printf "| %s |", d[c]
        for (b = 1; b <= np; b++) {
          kl = p[b] SUBSEP d[c] SUBSEP k[a] SUBSEP "lapack"
          ks = p[b] SUBSEP d[c] SUBSEP k[a] SUBSEP "scalapack"
          ml = (t[kl] <= t[ks]) ? "**" : ""; ms = (t[ks] < t[kl]) ? "**" : ""
          printf " %s%.4f%s (%.4f) | %s%.4f%s (%.4f) |", ml, t[kl], ml, s[kl], ms, t[ks], ms, s[ks]
        }
        printf "\n"
      }
    }
    printf "\n"
    for (a = 1; a <= nk; a++) for (b = 1; b <= np; b++) {
      # crossover: smallest d from which ScaLAPACK is faster at every larger measured d
      cross = "none"
      for (c = nd; c >= 1; c--) {
        kl = p[b] SUBSEP d[c] SUBSEP k[a] SUBSEP "lapack"
        ks = p[b] SUBSEP d[c] SUBSEP k[a] SUBSEP "scalapack"
        if (t[ks] < t[kl]) cross = d[c]; else break
      }
      # the same on the solve part alone: the rest (Grams, backward) is identical code in both
      # paths, so this is less exposed to noise from other processes on a shared machine
      crs = "none"
      for (c = nd; c >= 1; c--) {
        kl = p[b] SUBSEP d[c] SUBSEP k[a] SUBSEP "lapack"
        ks = p[b] SUBSEP d[c] SUBSEP k[a] SUBSEP "scalapack"
        if (s[ks] < s[kl]) crs = d[c]; else break
      }
      printf "crossover K=%s P=%s: %s; solve part only: %s\n", k[a], p[b],
             cross == "none" ? "none (LAPACK faster at every measured d <= " d[nd] ")" : "d >= " cross,
             crs == "none" ? "none" : "d >= " crs
    }
  }' "$raw"
