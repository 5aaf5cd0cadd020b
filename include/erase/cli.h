/* cli.h: the subcommands' entry points (options are declared in tables, erase/options.h).
 * Every command is collective on comm, parses identically on every rank and returns er_err;
 * main() agrees on the verdict, rank 0 prints one error line, every rank exits non-zero. */
#ifndef ERASE_CLI_H
#define ERASE_CLI_H

#include "erase/core.h"
#include "erase/options.h"

er_err er_cmd_import(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_generate(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_partition(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_info(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_propagate(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_train(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_estimate(MPI_Comm comm, int argc, char **argv);
er_err er_cmd_report(MPI_Comm comm, int argc, char **argv);

#endif
