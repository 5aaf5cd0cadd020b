/* main.c: the erase-mpi executable: MPI start-up, subcommand dispatch, collective error exit.
 * Commands live in src/cli/cmd_*.c; this file only routes and reports. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "erase/cli.h"
#include "erase/mem.h"

typedef struct {
  const char *name;
  er_err (*fn)(MPI_Comm, int, char **);
  const char *what;
} er_command;

static const er_command commands[] = {
    {"import", er_cmd_import, "text files (edge list / Matrix Market) -> HDF5 dataset"},
    {"generate", er_cmd_generate, "contextual stochastic block model -> HDF5 dataset"},
    {"partition", er_cmd_partition, "METIS or block partition stored in the dataset"},
    {"info", er_cmd_info, "counts, splits, classes and partitions of a dataset"},
    {"propagate", er_cmd_propagate, "distributed denoising + semantic label propagation"},
    {"estimate", er_cmd_estimate, "predict per-rank peak memory of a training run"},
    {"train", er_cmd_train, "ERASE training (GAT + MCR2) and linear-probe evaluation"},
    {"report", er_cmd_report, "pictures of a finished run (HTML + PNG)"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void main_usage(MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  printf("erase-mpi %s: ERASE graph representation learning with MPI\n\n"
         "usage: [mpirun -n P | srun] erase-mpi COMMAND [options]\n\ncommands:\n",
         ER_VERSION);
  for (int i = 0; i < n_commands; ++i) printf("  %-10s %s\n", commands[i].name, commands[i].what);
  printf("\n'erase-mpi COMMAND --help' describes each command.\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  /* keep freed buffers in the heap: libraries that allocate per call (L-BFGS, LAPACK work)
   * would otherwise pay mmap + page faults every epoch */
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  MPI_Init(&argc, &argv);
  MPI_Comm comm = MPI_COMM_WORLD;
  /* MPI failures come back as codes and are agreed on like any other (docs/ERRORS.md) */
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  er_err err = ER_OK;
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    main_usage(comm);
    if (argc < 2) err = ER_ERROR(ER_ERR_INPUT, "no command given");
  } else if (!strcmp(argv[1], "--version")) {
    er_log(comm, "erase-mpi %s\n", ER_VERSION);
  } else {
    int found = 0;
    for (int i = 0; i < n_commands; ++i)
      if (!strcmp(argv[1], commands[i].name)) {
        found = 1;
        err = commands[i].fn(comm, argc - 1, argv + 1);
        if (err == ER_HELP_SHOWN) err = ER_OK;
      }
    if (!found)
      err = ER_ERROR(ER_ERR_INPUT, "unknown command '%s' (see erase-mpi --help)", argv[1]);
  }
  err = er_agree(comm, err);
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (err == ER_INTERRUPTED && rank == 0) {
    fprintf(stderr, "erase-mpi: interrupted: %s\n", er_error_message());
    fflush(stderr);
  } else if (err != ER_OK) {
    er_report(comm);
  }
  er_fault_report();
  er_mem_report(); /* ERASE_MEM_REPORT=1: one line per rank on stderr */
  MPI_Finalize();
  return err == ER_OK ? 0 : err == ER_INTERRUPTED ? ER_EXIT_INTERRUPTED : 1;
}
