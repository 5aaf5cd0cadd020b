#!/usr/bin/env bash
# build.sh [BUILD_DIR] [extra cmake args]: configure and build erase-mpi (Release, warnings as
# errors). Does not install packages (scripts/install-deps.sh does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${1:-$root/build}; shift || true
cmake -S "$root" -B "$bdir" -DERASE_WERROR=ON "$@" >/dev/null
cmake --build "$bdir" -j "$(nproc)"
