/* bench_halo.c: time of one halo exchange of W-float rows on a real partitioned dataset, forward
 * and reverse, with the ranks lined up by a barrier first (pure exchange cost) and the bytes it
 * moves; median of REPS. Separates transfer cost from waiting for a slower rank in training.
 * Not a test. Usage: mpirun -n P bench_halo DATA.h5 [W (512)] [REPS (10)] */
#include <stdio.h>
#include <stdlib.h>

#include "erase/graph.h"
#include "erase/h5.h"

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, W = argc > 2 ? atoi(argv[2]) : 512, reps = argc > 3 ? atoi(argv[3]) : 10;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 2 || W < 1 || reps < 1) {
    if (rank == 0) fprintf(stderr, "usage: mpirun -n P bench_halo DATA.h5 [W] [REPS]\n");
    MPI_Finalize();
    return 2;
  }
  hid_t fid;
  er_dgraph *g = NULL;
  if (er_h5_open(MPI_COMM_WORLD, argv[1], 0, &fid) != ER_OK ||
      er_dgraph_create(MPI_COMM_WORLD, fid, (er_part_choice){ER_PART_CHOICE_AUTO, 0}, 0, &g) != ER_OK) {
    if (rank == 0) fprintf(stderr, "bench_halo: %s\n", er_error_message());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  er_h5_close(&fid);
  size_t nt = (size_t)g->n_own + (size_t)g->n_ghost;
  float *x = calloc(nt * (size_t)W, sizeof *x);
  double *tf = malloc((size_t)reps * sizeof *tf), *tr = malloc((size_t)reps * sizeof *tr);
  for (size_t i = 0; i < nt * (size_t)W; ++i) x[i] = (float)(i % 7);
  for (int r = -1; r < reps; ++r) { /* r = -1: warm-up, first touch */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (er_halo_forward_begin(g->halo, x, W, MPI_FLOAT) != ER_OK || er_halo_forward_end(g->halo) != ER_OK)
      MPI_Abort(MPI_COMM_WORLD, 1);
    double t1 = MPI_Wtime();
    MPI_Barrier(MPI_COMM_WORLD);
    double t2 = MPI_Wtime();
    if (er_halo_reverse_begin(g->halo, x, W, MPI_FLOAT) != ER_OK || er_halo_reverse_end(g->halo) != ER_OK)
      MPI_Abort(MPI_COMM_WORLD, 1);
    double t3 = MPI_Wtime();
    if (r >= 0) tf[r] = t1 - t0, tr[r] = t3 - t2;
  }
  qsort(tf, (size_t)reps, sizeof *tf, cmp_d);
  qsort(tr, (size_t)reps, sizeof *tr, cmp_d);
  double mb = (double)g->n_ghost * W * 4 / 1e6;
  double all[3] = {tf[reps / 2], tr[reps / 2], mb}, mx[3];
  MPI_Reduce(all, mx, 3, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0)
    printf("P=%d W=%d: ghost rows received per rank (max) %.1f MB; forward %.4f s (%.2f GB/s), "
           "reverse (incl. the sum into owned rows) %.4f s; medians of %d, slowest rank\n",
           size, W, mx[2], mx[0], mx[2] / 1e3 / mx[0], mx[1], reps);
  free(x), free(tf), free(tr);
  er_dgraph_destroy(&g);
  MPI_Finalize();
  return 0;
}
