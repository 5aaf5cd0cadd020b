#!/usr/bin/env bash
# quickstart.sh: on a fresh Debian 12 machine (root): install what is missing, build, and run
# the default job on a generated graph: generate -> METIS partition -> distributed ERASE run.
# Knobs (environment): RANKS (2), NODES (20000), WORK (./quickstart-run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --build-only
"$root/scripts/build.sh"
source "$root/scripts/env.sh"
RANKS=${RANKS:-2}; NODES=${NODES:-20000}; WORK=${WORK:-$PWD/quickstart-run}
mkdir -p "$WORK"
bin="$root/build/erase-mpi"
set -x
mpirun -n "$RANKS" "$bin" generate --nodes "$NODES" --avg-degree 10 --classes 7 --features 64 \
  --homophily 0.8 --seed 1 --out "$WORK/graph.h5"
mpirun -n "$RANKS" "$bin" partition --data "$WORK/graph.h5" --parts "$RANKS"
mpirun -n "$RANKS" "$bin" propagate --data "$WORK/graph.h5" --noise asymm --noise-ratio 0.3
