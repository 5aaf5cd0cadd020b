#!/bin/bash
# bench_halo_volume.sh DATA.h5 [PARTS [DIR]]: the halo-volume table of a dataset: for each P in
# PARTS (default "2 4 8 16 32 64") a METIS partition (`erase-mpi partition`, one process: METIS
# runs on rank 0 anyway) and `erase-mpi estimate --ranks P`; keeps their logs in DIR (default
# est-<name of DATA>; partP.log, estP<P>.log, as benchmarks/project_scaling.py reads them) and
# prints one markdown row per P. Partitions are stored in (or beside) DATA.h5; nothing else is
# written. A P whose logs are already in DIR is not run again (delete them to re-measure).
# env: ERASE_BIN (default build/erase-mpi)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ERASE_BIN:-$here/build/erase-mpi}
DATA=${1:?usage: bench_halo_volume.sh DATA.h5 [PARTS [DIR]]}
PARTS=${2:-2 4 8 16 32 64}
DIR=${3:-est-$(basename "$DATA" .h5)}
. "$here/scripts/env.sh" # root, oversubscription, loopback, one BLAS thread, MTL probes skipped
[ -x "$BIN" ] || { echo "no erase-mpi at $BIN (build first or set ERASE_BIN)" >&2; exit 1; }
mkdir -p "$DIR"

for P in $PARTS; do
  if [ ! -s "$DIR/part$P.log" ] || ! grep -q "edge cut" "$DIR/part$P.log"; then
    t0=$(date +%s)
    "$BIN" partition --data "$DATA" --parts "$P" >"$DIR/part$P.log" 2>&1
    echo "partition P=$P: $(($(date +%s) - t0)) s wall, load $(cut -d' ' -f1 /proc/loadavg)" \
      >>"$DIR/part$P.log"
  fi
  if [ ! -s "$DIR/estP$P.log" ] || ! grep -q "total ghosts" "$DIR/estP$P.log"; then
    "$BIN" estimate --data "$DATA" --ranks "$P" >"$DIR/estP$P.log" 2>&1
  fi
done

commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
echo "| P | METIS edge cut | ghosts, all ranks | ghosts per rank (mean) | halo received per rank per epoch (max, mean) | predicted peak memory per rank (max, with \`--out\`) |"
echo "|---|---|---|---|---|---|"
for P in $PARTS; do
  cut=$(sed -n 's/.*edge cut: .*(\([0-9.]*%\)).*/\1/p' "$DIR/part$P.log" | head -1)
  g=$(sed -n 's/.*total ghosts \([0-9]*\).*/\1/p' "$DIR/estP$P.log")
  halo=$(sed -n 's/.*: max \([0-9.]* [KMG]*B\), mean \([0-9.]* [KMG]*B\) received.*/\1, \2/p' \
    "$DIR/estP$P.log")
  mem=$(sed -n 's/.*peak per rank: max \([0-9.]* [KMG]iB\).*/\1/p' "$DIR/estP$P.log")
  printf '| %d | %s | %s | %s | %s | %s |\n' "$P" "$cut" \
    "$(commas "$g")" "$(commas $((g / P)))" "$halo" "$mem"
done
