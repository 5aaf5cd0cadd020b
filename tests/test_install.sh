#!/usr/bin/env bash
# test_install.sh: `cmake --install` into a temporary prefix gives a usable package: the Lmod
# module puts erase-mpi and its man page on the paths, `erase-mpi --help`, a 2-epoch
# `train --preset cora` and `man erase-mpi` work from another directory, and the installed
# jobs/ scripts find the installed binary. Skipped (77) without Lmod or man.
set -uo pipefail
: "${ER_BUILD_DIR:?}" "${MPIEXEC:?}" "${ER_MKFIXTURE:?}"
lmod_init=/usr/share/lmod/lmod/init/bash
[ -r "$lmod_init" ] && command -v man >/dev/null || { echo "SKIP: no Lmod or man"; exit 77; }
T=$(mktemp -d /tmp/er_install.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
cmake --install "$ER_BUILD_DIR" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
  { cat "$T/install.log"; exit 1; }
mkdir -p "$T/elsewhere" && cd "$T/elsewhere" || exit 1
# a fresh shell environment: nothing of the build tree on PATH, no ERASE_BIN
unset ERASE_BIN ERASE_DATA_DIR
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin MANPATH=
# shellcheck disable=SC1090
source "$lmod_init"
module use "$T/prefix/share/modulefiles"
module load erase-mpi 2>"$T/module.err"
check module_load '[ "$(command -v erase-mpi)" = "$T/prefix/bin/erase-mpi" ]'
check root_set '[ "${ERASE_MPI_ROOT:-}" = "$T/prefix" ]'
check help 'erase-mpi --help | grep -q "^usage: .*erase-mpi COMMAND"'
check help_presets 'erase-mpi train --help | grep -q -- "--preset NAME .*cora"'
if [ -n "${ER_CORA_DIR:-}" ] && [ -r "$ER_CORA_DIR/graph.edges" ]; then
  erase-mpi import --dir "$ER_CORA_DIR" --out data.h5 >/dev/null 2>&1
else
  "$MPIEXEC" -n 1 "$ER_MKFIXTURE" data.h5 6 6 >/dev/null
fi
check train_preset '"$MPIEXEC" -n 2 erase-mpi train --data data.h5 --preset cora --epochs 2 \
  --out run.h5 >train.log 2>&1 && grep -q "^summary: test accuracy" train.log &&
  h5dump -a /config run.h5 | grep -q "eps = 0.05"'
check man 'man erase-mpi 2>/dev/null | grep -q "erase-mpi - ERASE graph representation learning"'
check man_commands 'man erase-mpi 2>/dev/null | grep -q "preset NAME"'
check jobs_find_bin '( ER_JOB=t ER_JOBS_DIR="$T/prefix/share/erase-mpi/jobs";
  PATH=/usr/bin:/bin; source "$ER_JOBS_DIR/common.sh"; er_require_bin;
  [ "$ERASE_BIN" = "$T/prefix/bin/erase-mpi" ] )'
check jobs_installed '[ -x "$T/prefix/share/erase-mpi/jobs/submit_scaling.sh" ] &&
  [ -r "$T/prefix/share/erase-mpi/configs/citeseer.ini" ]'
[ $fail = 0 ] && echo "test_install: PASS" || echo "test_install: FAIL"
exit $fail
