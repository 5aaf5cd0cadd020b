#!/usr/bin/env bash
# fault_sweep.sh [STRIDE] [COMMANDS]: the full fault-injection sweep of tests/test_faults.sh
# (CI runs every 61st site): every STRIDE-th site (default 1: all of them) of a 2-rank Cora
# import, partition and train fails on rank 1 (every 7*STRIDE-th on rank 0), each run checked for
# one error line, non-zero exits, no hang, no file left looking complete, a resumable checkpoint.
#   benchmarks/fault_sweep.sh            # all sites (hours on 2 cores)
#   benchmarks/fault_sweep.sh 5 train    # every 5th site of train
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
# shellcheck source=scripts/env.sh
. "$root/scripts/env.sh"
export ERASE_BIN=${ERASE_BIN:-$root/build/erase-mpi} MPIEXEC=${MPIEXEC:-mpirun}
export ER_CORA_DIR=${ER_CORA_DIR:-$root/../shared/data/cora}
export FAULT_STRIDE=${1:-1} FAULT_COMMANDS=${2:-import partition train}
echo "fault sweep: stride $FAULT_STRIDE, commands: $FAULT_COMMANDS, $(date '+%F %T')"
t0=$SECONDS
rc=0
bash "$root/tests/test_faults.sh" || rc=$?
echo "fault sweep: exit $rc after $((SECONDS - t0)) s"
exit $rc
