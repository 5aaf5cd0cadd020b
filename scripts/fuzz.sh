#!/usr/bin/env bash
# fuzz.sh: build and run the libFuzzer harnesses of tests/fuzz (see tests/fuzz/README.md).
#   fuzz.sh build                  configure + build them with clang in $ERASE_FUZZ_BUILD
#                                  (default build-fuzz): the library with
#                                  -fsanitize=fuzzer-no-link,address,undefined
#   fuzz.sh run SECONDS [NAME...]  each target (default: every "ci" target) replays its corpus
#                                  tests/fuzz/corpus/NAME (crash reproducers included), then
#                                  fuzzes SECONDS seconds from a scratch copy of it (extra
#                                  libFuzzer flags: $ERASE_FUZZ_FLAGS); exit 1 if any target
#                                  crashed or failed an oracle (input and log kept in
#                                  $ERASE_FUZZ_OUT/NAME, default <build>/out)
#   fuzz.sh ci                     build, then run ${ERASE_FUZZ_SECONDS:-20}
#   fuzz.sh ci-build               ctest's fuzz_build: build (exit 77 when $ERASE_FUZZ_CC
#                                  cannot link a libFuzzer program: SKIP)
#   fuzz.sh ci-run NAME            ctest's fuzz_NAME: run ${ERASE_FUZZ_SECONDS:-20} NAME
#                                  (exit 77 without libFuzzer, as ci-build)
#   fuzz.sh repro NAME FILE...     run one target on the given inputs only
# One process per target, one after the other; no -jobs/-workers. Prints one line per target:
# executions, seconds, coverage (libFuzzer's cov: and ft:), corpus size, verdict.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${ERASE_FUZZ_BUILD:-$root/build-fuzz}
out=${ERASE_FUZZ_OUT:-$bdir/out}
cc=${ERASE_FUZZ_CC:-clang}
fz=$root/tests/fuzz
# shellcheck source=env.sh
source "$root/scripts/env.sh"
# allocations that fail come back as NULL (our ER_ERR_MEM path); UB and leaks are failures.
# Leaks are checked per input (libFuzzer); not at exit, where LeakSanitizer's stop-the-world
# can crash on Open MPI's threads ("Tracer caught signal 11") and fail a clean run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1:leak_check_at_exit=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# the harnesses' scratch files (several per input): tmpfs when there is one, removed at exit
scratch=$(mktemp -d /dev/shm/erase-fuzz.XXXXXX 2>/dev/null || mktemp -d /tmp/erase-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export ERASE_FUZZ_TMP=$scratch

probe() { # exit 77 (ctest's skip) with a SKIP line when $cc cannot link a libFuzzer program
  local p=$scratch/probe
  printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (int)(d && n > 9); }' >"$p.c"
  if ! command -v "$cc" >/dev/null 2>&1 ||
    ! "$cc" -fsanitize=fuzzer,address,undefined "$p.c" -o "$p" >"$p.log" 2>&1; then
    echo "SKIP: clang with libFuzzer not installed ('$cc' cannot link -fsanitize=fuzzer;" \
      "Debian: apt-get install clang libclang-rt-dev, as scripts/install-deps.sh does)"
    exit 77
  fi
}

build() {
  cmake -S "$root" -B "$bdir" -DCMAKE_C_COMPILER="$cc" -DERASE_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$bdir" --target fuzz_all -j 2 >/dev/null
}

targets() { # the ci targets, from the build
  awk '$2 == "ci" { print $1 }' "$bdir/fuzz_targets.txt"
}

flags_of() { # NAME: the target's own libFuzzer flags (NAME.dict, NAME.args)
  local name=$1
  [ -f "$fz/$name.dict" ] && echo "-dict=$fz/$name.dict"
  [ -f "$fz/$name.args" ] && cat "$fz/$name.args"
  return 0
}

run_one() { # NAME SECONDS: 0 if clean
  local name=$1 secs=$2 exe=$bdir/fuzz_$1 seeds=$fz/corpus/$1 work=$out/$1
  local -a flags
  read -r -a flags <<<"$(flags_of "$name" | tr '\n' ' ') ${ERASE_FUZZ_FLAGS:-}"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts" "$seeds"
  local supp=$fz/lsan.supp
  [ -f "$fz/$name.supp" ] && supp=$fz/$name.supp
  export LSAN_OPTIONS=suppressions=$supp:print_suppressions=0
  local t0 rc=0 how="-max_total_time=$secs"
  [[ $secs == runs=* ]] && how="-${secs}"
  t0=$(date +%s.%N)
  # the corpus, reproducers of fixed crashes included, must pass as it is
  if ! "$exe" "${flags[@]}" -runs=0 -artifact_prefix="$work/artifacts/" "$seeds" \
    >"$work/replay.log" 2>&1; then
    echo "fuzz_$name: FAIL replaying $seeds (log: $work/replay.log)"
    grep -m3 -E 'ERROR|oracle|Running' "$work/replay.log" | sed 's/^/  /' || true
    return 1
  fi
  "$exe" "${flags[@]}" "$how" -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$work/fuzz.log" 2>&1 || rc=$?
  local t1 execs cov ft units
  t1=$(date +%s.%N)
  execs=$(grep -oE 'number_of_executed_units: [0-9]+' "$work/fuzz.log" | tail -1 | cut -d' ' -f2 ||
    true)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$work/fuzz.log" | tail -1 || true)
  units=$(find "$work/corpus" -type f | wc -l)
  local verdict=ok
  [ "$rc" = 0 ] || verdict="FAIL (exit $rc; artifacts in $work/artifacts, log $work/fuzz.log)"
  printf 'fuzz_%s: executions %s, %.0f s, %s, new corpus files %s: %s\n' "$name" \
    "${execs:-?}" "$(echo "$t1 - $t0" | bc)" "${cov:-cov: ?}" "$units" "$verdict"
  if [ "$rc" != 0 ]; then
    grep -m5 -E 'ERROR: |fuzz oracle|runtime error|SUMMARY' "$work/fuzz.log" | sed 's/^/  /' || true
    return 1
  fi
}

run() { # SECONDS [NAME...]
  local secs=$1 fail=0
  shift
  local -a names=("$@")
  [ ${#names[@]} -gt 0 ] || mapfile -t names < <(targets)
  for name in "${names[@]}"; do
    run_one "$name" "$secs" || fail=1
  done
  return $fail
}

cmd=${1:-}
case $cmd in
  build) build ;;
  run) shift; [ $# -ge 1 ] || { echo "usage: fuzz.sh run SECONDS [NAME...]" >&2; exit 2; }; run "$@" ;;
  ci) probe; build; run "${ERASE_FUZZ_SECONDS:-20}" ;;
  ci-build) probe; build ;;
  ci-run)
    shift; [ $# -eq 1 ] || { echo "usage: fuzz.sh ci-run NAME" >&2; exit 2; }
    probe
    [ -x "$bdir/fuzz_$1" ] || { echo "fuzz_$1: not built in $bdir (fuzz.sh ci-build)"; exit 1; }
    run "${ERASE_FUZZ_SECONDS:-20}" "$1" ;;
  repro)
    shift; [ $# -ge 2 ] || { echo "usage: fuzz.sh repro NAME FILE..." >&2; exit 2; }
    name=$1; shift
    # shellcheck disable=SC2046
    "$bdir/fuzz_$name" $(flags_of "$name") "$@" ;;
  *) echo "usage: fuzz.sh build | run SECONDS [NAME...] | ci | ci-build | ci-run NAME |" \
       "repro NAME FILE..." >&2; exit 2 ;;
esac
