/* mpi_volume.c: how many bytes Open MPI's collectives move for a payload, as a factor of the
 * payload S (bytes sent by all ranks together, counted by Open MPI's pml monitoring in the
 * caller). Usage: mpi_volume allreduce|allgatherv|reduce_bcast S REPS. Each rank of an allgatherv
 * adds S/P; reduce_bcast is a reduce to rank 0 then a broadcast from it (the probe's sum).
 * Used by bench_wire_bytes.sh; build: mpicc -O2 mpi_volume.c -o mpi_volume. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (argc != 4) {
    fprintf(stderr, "usage: mpi_volume allreduce|allgatherv|reduce_bcast BYTES REPS\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  int p, reps = atoi(argv[3]);
  long bytes = atol(argv[2]);
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  int n = (int)(bytes / 8);
  double *b = calloc((size_t)n + 1, 8);
  int *cnt = malloc(sizeof(int) * (size_t)p), *dsp = malloc(sizeof(int) * (size_t)p);
  for (int r = 0, at = 0; r < p; ++r) {
    cnt[r] = n / p + (r < n % p);
    dsp[r] = at;
    at += cnt[r];
  }
  for (int i = 0; i < reps; ++i) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (strcmp(argv[1], "allreduce") == 0) {
      MPI_Allreduce(MPI_IN_PLACE, b, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    } else if (strcmp(argv[1], "reduce_bcast") == 0) {
      MPI_Reduce(rank == 0 ? MPI_IN_PLACE : b, b, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
      MPI_Bcast(b, n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    } else
      MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b, cnt, dsp, MPI_DOUBLE, MPI_COMM_WORLD);
  }
  free(b);
  free(cnt);
  free(dsp);
  MPI_Finalize();
  return 0;
}
