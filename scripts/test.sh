#!/usr/bin/env bash
# test.sh: install what is missing, build (warnings as errors), run every test with ctest, then
# rebuild with AddressSanitizer + UndefinedBehaviorSanitizer and run the unit and MPI tests
# again. Exits non-zero when any test fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
cd "$root/build"
ctest --output-on-failure -j 2 --timeout 900
echo "== sanitizer build (ASan + UBSan): unit and MPI tests =="
"$root/scripts/build.sh" "$root/build-asan" -DERASE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cd "$root/build-asan"
ctest --output-on-failure -j 2 -L mpi -LE "slow" --timeout 900
