/* mpi_calls.c: an LD_PRELOAD library (PMPI) that counts, per rank, the MPI calls a run makes that
 * wait on the network: collectives by kind and point-to-point sends, each with its payload bytes
 * and how many carried more than Open MPI's TCP eager limit (64 KiB: those add a rendezvous round
 * trip), and the halo rounds (MPI_Waitall). At MPI_Finalize each rank appends one line per kind
 * to $MPI_CALLS_OUT.<rank> (default mpi_calls.<rank>): "KIND CALLS BYTES LARGE". It changes
 * nothing in the calls. Used by benchmarks/bench_shaped_scaling.sh to feed the latency terms of
 * benchmarks/project_scaling.py; build: mpicc -O2 -shared -fPIC -o libmpicalls.so mpi_calls.c */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { ALLREDUCE, REDUCE, BCAST, ALLGATHER, ALLGATHERV, ALLTOALL, ALLTOALLV, REDUCE_SCATTER,
       GATHER, EXSCAN, BARRIER, ISEND, WAITALL, NKIND };
static const char *names[NKIND] = {"allreduce", "reduce",         "bcast",  "allgather",
                                   "allgatherv", "alltoall",      "alltoallv", "reduce_scatter",
                                   "gather",     "exscan",        "barrier", "isend",
                                   "waitall"};
static struct {
  uint64_t calls, bytes, large;
} tally[NKIND];
#define EAGER 65536

static void count(int kind, MPI_Datatype t, int n) {
  int size = 0;
  if (n > 0 && t != MPI_DATATYPE_NULL) PMPI_Type_size(t, &size);
  uint64_t b = (uint64_t)size * (uint64_t)(n > 0 ? n : 0);
  tally[kind].calls++;
  tally[kind].bytes += b;
  if (b > EAGER) tally[kind].large++;
}

int MPI_Allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c) {
  count(ALLREDUCE, t, n);
  return PMPI_Allreduce(s, r, n, t, op, c);
}
int MPI_Reduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm c) {
  count(REDUCE, t, n);
  return PMPI_Reduce(s, r, n, t, op, root, c);
}
int MPI_Bcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm c) {
  count(BCAST, t, n);
  return PMPI_Bcast(b, n, t, root, c);
}
int MPI_Allgather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                  MPI_Comm c) {
  int p;
  PMPI_Comm_size(c, &p);
  count(ALLGATHER, rt, rn * p);
  return PMPI_Allgather(s, sn, st, r, rn, rt, c);
}
int MPI_Allgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int *rn,
                   const int *displs, MPI_Datatype rt, MPI_Comm c) {
  int p, tot = 0;
  PMPI_Comm_size(c, &p);
  for (int i = 0; i < p; ++i) tot += rn[i];
  count(ALLGATHERV, rt, tot);
  return PMPI_Allgatherv(s, sn, st, r, rn, displs, rt, c);
}
int MPI_Alltoall(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                 MPI_Comm c) {
  int p;
  PMPI_Comm_size(c, &p);
  count(ALLTOALL, st, sn * p);
  return PMPI_Alltoall(s, sn, st, r, rn, rt, c);
}
int MPI_Alltoallv(const void *s, const int *sn, const int *sd, MPI_Datatype st, void *r,
                  const int *rn, const int *rd, MPI_Datatype rt, MPI_Comm c) {
  int p, tot = 0;
  PMPI_Comm_size(c, &p);
  for (int i = 0; i < p; ++i) tot += sn[i];
  count(ALLTOALLV, st, tot);
  return PMPI_Alltoallv(s, sn, sd, st, r, rn, rd, rt, c);
}
int MPI_Reduce_scatter(const void *s, void *r, const int *rn, MPI_Datatype t, MPI_Op op,
                       MPI_Comm c) {
  int p, tot = 0;
  PMPI_Comm_size(c, &p);
  for (int i = 0; i < p; ++i) tot += rn[i];
  count(REDUCE_SCATTER, t, tot);
  return PMPI_Reduce_scatter(s, r, rn, t, op, c);
}
int MPI_Gather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, int root,
               MPI_Comm c) {
  count(GATHER, st, sn);
  return PMPI_Gather(s, sn, st, r, rn, rt, root, c);
}
int MPI_Exscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c) {
  count(EXSCAN, t, n);
  return PMPI_Exscan(s, r, n, t, op, c);
}
int MPI_Barrier(MPI_Comm c) {
  count(BARRIER, MPI_DATATYPE_NULL, 0);
  return PMPI_Barrier(c);
}
int MPI_Isend(const void *b, int n, MPI_Datatype t, int dst, int tag, MPI_Comm c,
              MPI_Request *req) {
  count(ISEND, t, n);
  return PMPI_Isend(b, n, t, dst, tag, c, req);
}
int MPI_Waitall(int n, MPI_Request *reqs, MPI_Status *st) {
  count(WAITALL, MPI_DATATYPE_NULL, 0);
  return PMPI_Waitall(n, reqs, st);
}

int MPI_Finalize(void) {
  int rank = 0;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char *base = getenv("MPI_CALLS_OUT");
  char path[4096];
  snprintf(path, sizeof path, "%s.%d", base && *base ? base : "mpi_calls", rank);
  FILE *f = fopen(path, "w");
  if (f) {
    for (int k = 0; k < NKIND; ++k)
      fprintf(f, "%s %llu %llu %llu\n", names[k], (unsigned long long)tally[k].calls,
              (unsigned long long)tally[k].bytes, (unsigned long long)tally[k].large);
    fclose(f);
  }
  return PMPI_Finalize();
}
