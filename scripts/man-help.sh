#!/usr/bin/env bash
# man-help.sh: the man page of erase-mpi, made by help2man from the tool's own help text.
#   man-help.sh --man HELP2MAN BIN OUT.1   write the page (the build does this)
#   man-help.sh BIN --help|--version       what help2man reads: --version, or --help followed by
#                                          every command's --help (one page for the whole tool)
set -euo pipefail
if [ "${1:-}" = --man ]; then
  h2m=$2 bin=$3 out=$4
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  # help2man names the page after the program it runs: a wrapper called erase-mpi
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$(readlink -f "$0")" "$bin" >"$dir/erase-mpi"
  chmod +x "$dir/erase-mpi"
  exec "$h2m" --no-info --section 1 --name "ERASE graph representation learning with MPI" \
    --output "$out" "$dir/erase-mpi"
fi
bin=$1; shift
if [ "${1:-}" = --version ]; then exec "$bin" --version; fi
"$bin" --help
for cmd in $("$bin" --help | sed -n 's/^  \([a-z]\+\)  .*/\1/p'); do
  printf '\n%s:\n' "$cmd"
  "$bin" "$cmd" --help | sed 's/^/  /'
done
