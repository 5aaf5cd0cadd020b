/* opts.c: what the subcommands share about options: the unknown-option error and --help
 * output on rank 0. Values are parsed by er_parse_* (src/core/parse.c). */
#include <stdio.h>

#include "erase/cli.h"

er_err er_bad_option(const char *cmd, int optopt_c, const char *arg) {
  if (optopt_c && optopt_c != '?')
    return ER_ERROR(ER_ERR_INPUT, "%s: option '%s' is unknown or needs a value (see --help)",
                    cmd, arg ? arg : "?");
  return ER_ERROR(ER_ERR_INPUT, "%s: unknown option '%s' (see --help)", cmd, arg ? arg : "?");
}

void er_usage(MPI_Comm comm, const char *text) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    fputs(text, stdout);
    fflush(stdout);
  }
}
