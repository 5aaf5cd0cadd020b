#!/usr/bin/env bash
# quickstart.sh: on a fresh Debian 12 machine (root): install what is missing, build, and run
# the default job on a generated graph: generate -> METIS partition -> distributed ERASE run.
# Knobs (environment): RANKS (2), NODES (20000), EPOCHS (40), WORK (./quickstart-run).
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
# generated features are centred Gaussians: PyG's NormalizeFeatures (made for non-negative
# bag-of-words counts) would wash them out, so they go in as they are
mpirun -n "$RANKS" "$bin" train --data "$WORK/graph.h5" --noise asymm --noise-ratio 0.3 --feature-norm none \
  --epochs "${EPOCHS:-40}" --log-json "$WORK/train.jsonl" --out "$WORK/run.h5" \
  --checkpoint "$WORK/checkpoint.h5" --checkpoint-every 10
