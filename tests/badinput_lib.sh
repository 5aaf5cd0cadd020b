# badinput_lib.sh: shared harness for bad-input shell tests (source it).
# er_case NAME EXPECT(ok|fail) PATTERN -- erase-mpi-args...
#   runs `$MPIEXEC -n ${NP:-2} erase-mpi args` under timeout, records every rank's exit code and
#   asserts: expected exit on every rank, for failures exactly one "erase-mpi: error:" line on
#   stderr matching the extended regex PATTERN, no sanitizer report, no hang.
# Sets fail=1 on any failed case; er_summary NAME prints the verdict and exits.
: "${ERASE_BIN:?}" "${MPIEXEC:?}"
ER_T=$(mktemp -d /tmp/er_bad.XXXXXX)
trap 'rm -rf "$ER_T"' EXIT
fail=0

er_case() {
  local name=$1 expect=$2 pattern=$3 np=${NP:-2}
  shift 4
  rm -f "$ER_T"/exit.*
  timeout 120 "$MPIEXEC" -n "$np" sh -c '"$@"; echo $? > '"$ER_T"'/exit.$OMPI_COMM_WORLD_RANK' sh \
    "$ERASE_BIN" "$@" > "$ER_T/out" 2> "$ER_T/err"
  local rc=$? ok=1 r code errors
  [ $rc -eq 124 ] && { echo "[$name] timed out (hang?)"; ok=0; }
  for ((r = 0; r < np; ++r)); do
    if [ ! -f "$ER_T/exit.$r" ]; then echo "[$name] rank $r left no exit code"; ok=0; continue; fi
    code=$(cat "$ER_T/exit.$r")
    if [ "$expect" = fail ] && [ "$code" -eq 0 ]; then echo "[$name] rank $r exited 0"; ok=0; fi
    if [ "$expect" = ok ] && [ "$code" -ne 0 ]; then echo "[$name] rank $r exited $code"; ok=0; fi
  done
  errors=$(grep -c '^erase-mpi: error:' "$ER_T/err")
  if [ "$expect" = fail ]; then
    [ "$errors" -eq 1 ] || { echo "[$name] $errors error lines (want 1)"; ok=0; }
    grep '^erase-mpi: error:' "$ER_T/err" | grep -Eq -- "$pattern" ||
      { echo "[$name] error line does not match /$pattern/"; ok=0; }
  else
    [ "$errors" -eq 0 ] || { echo "[$name] unexpected error line"; ok=0; }
  fi
  grep -q 'Sanitizer' "$ER_T/err" && { echo "[$name] sanitizer report"; ok=0; }
  if [ $ok -eq 1 ]; then
    echo "ok   $name: $(grep -m1 '^erase-mpi: error:' "$ER_T/err" || echo success)"
  else
    echo "FAIL $name"; sed 's/^/  stderr: /' "$ER_T/err" | head -20; fail=1
  fi
}

er_summary() {
  [ $fail -eq 0 ] && echo "$1: PASS" || echo "$1: FAIL"
  exit $fail
}
