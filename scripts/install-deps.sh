#!/usr/bin/env bash
# install-deps.sh: install the Debian 12 packages ERASE-MPI needs (build, tests, benchmarks).
# Idempotent: only missing packages are installed. Run as root (or via sudo).
# Usage: scripts/install-deps.sh [--build-only]
#   (default: also the test/benchmark tools, Slurm, PyTorch, and clang for the fuzz tests)
set -euo pipefail
build=(cmake gcc make pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
       libmetis-dev libptscotch-dev libscalapack-openmpi-dev libopenblas-dev liblapacke-dev
       liblbfgs-dev libcjson-dev libinih-dev librandom123-dev zlib1g-dev)
extra=(python3-h5py-mpi python3-numpy python3-matplotlib python3-sklearn hyperfine time help2man
       lmod)
slurm=(slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge iproute2)
torch=(python3-torch)
# the fuzz tests (ctest -L fuzz): clang and its runtimes (libFuzzer, ASan, UBSan), which apt
# would leave out as a mere recommendation under --no-install-recommends
fuzz=(clang libclang-rt-dev)
want=("${build[@]}")
case " $* " in
  *" --build-only "*) ;;
  *) want+=("${extra[@]}" "${slurm[@]}" "${torch[@]}" "${fuzz[@]}") ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-deps: all ${#want[@]} packages present"; exit 0; fi
echo "install-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
