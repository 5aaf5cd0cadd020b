/* mpi_volume.c: how many bytes Open MPI's collectives move for a payload, as a factor of the
 * payload S (bytes sent by all ranks together, counted by Open MPI's pml monitoring in the
 * caller). Usage: mpi_volume allreduce|allgatherv|reduce_bcast S REPS. Each rank of an allgatherv
 * adds S/P; reduce_bcast is a reduce to rank 0 then a broadcast from it (the probe's sum).
 * `pingpong S REPS` instead times S bytes from rank 0 to rank 1 and back, REPS times, and rank 0
 * prints the one-way seconds per message ("pingpong S SECONDS"): the link as MPI sees it.
 * Used by bench_wire_bytes.sh and bench_shaped_scaling.sh; build: mpicc -O2 mpi_volume.c -o
 * mpi_volume. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* S bytes of m from rank 0 to rank 1 and back, reps times after two untimed rounds (which open
 * the connection); rank 0 prints the one-way seconds per message. */
static void pingpong(char *m, long bytes, int reps) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  double t = 0;
  for (int i = -2; i < reps; ++i) {
    if (i == 0) {
      MPI_Barrier(MPI_COMM_WORLD);
      t = MPI_Wtime();
    }
    if (rank == 0) {
      MPI_Send(m, (int)bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(m, (int)bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(m, (int)bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(m, (int)bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
  }
  if (rank == 0) printf("pingpong %ld %.9f\n", bytes, (MPI_Wtime() - t) / reps / 2);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (argc != 4) {
    fprintf(stderr, "usage: mpi_volume allreduce|allgatherv|reduce_bcast|pingpong BYTES REPS\n");
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
  if (strcmp(argv[1], "pingpong") == 0)
    pingpong((char *)b, bytes, reps); /* b holds at least bytes */
  else
    for (int i = 0; i < reps; ++i) {
      int rank;
      MPI_Comm_rank(MPI_COMM_WORLD, &rank);
      if (strcmp(argv[1], "allreduce") == 0) {
        MPI_Allreduce(MPI_IN_PLACE, b, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      } else if (strcmp(argv[1], "reduce_bcast") == 0) {
        MPI_Reduce(rank == 0 ? MPI_IN_PLACE : b, b, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        MPI_Bcast(b, n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
      } else
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b, cnt, dsp, MPI_DOUBLE,
                       MPI_COMM_WORLD);
    }
  free(b);
  free(cnt);
  free(dsp);
  MPI_Finalize();
  return 0;
}
