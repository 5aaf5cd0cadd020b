/* cli.h: subcommand entry points and the option handling they share (values are parsed with
 * er_parse_* from core.h).
 * Every command is collective on comm, parses identically on every rank and returns er_err;
 * main() agrees on the verdict, rank 0 prints one error line, every rank exits non-zero. */
#ifndef ERASE_CLI_H
#define ERASE_CLI_H

#include "erase/core.h"

/* Returned by a command after printing --help: success, nothing else to do. */
#define ER_HELP_SHOWN (-1)

er_err er_cmd_import(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_generate(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_partition(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_info(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_propagate(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_train(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_estimate(MPI_Comm comm, int argc, char **argv);

/* Report an unknown option / missing value from getopt_long's '?' or ':' result. */
er_err er_bad_option(const char *cmd, int optopt_c, const char *arg);
/* Print usage text on rank 0. */
void er_usage(MPI_Comm comm, const char *text);

#endif
