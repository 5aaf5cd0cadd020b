/* test_prop.c: distributed denoising (both variants) and semantic propagation equal the plain
 * serial references over the whole graph to 1e-6 (METIS partition of the run's rank count). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/prop.h"
#include "erase/rng.h"
#include "graph_common.h"

static void check(const char *path, const char *label) {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  hid_t fid;
  er_dgraph *g = NULL;
  er_csr A = {0};
  TEST_OK(er_partition(comm, path, size, ER_PART_METIS, 1, NULL));
  TEST_OK(er_h5_open(comm, path, 0, &fid));
  TEST_OK(er_dgraph_create(comm, fid, (er_part_choice){ER_PART_CHOICE_AUTO, 0}, 0, &g));
  TEST_OK(er_csr_read(comm, fid, &A));
  int64_t n = A.n;
  int32_t *lab = malloc(n * sizeof(int32_t));
  TEST_OK(er_h5_read_all(fid, "/labels", H5T_NATIVE_INT32, lab));
  int64_t nt;
  {
    int nd;
    int64_t dims[2];
    er_h5_shape(fid, "/split/train", &nd, dims);
    nt = dims[0];
  }
  int64_t *tr = malloc(nt * sizeof(int64_t));
  TEST_OK(er_h5_read_all(fid, "/split/train", H5T_NATIVE_INT64, tr));
  er_h5_close(&fid);
  int K = g->K;
  uint8_t *is_train = calloc(n, 1);
  for (int64_t k = 0; k < nt; ++k) is_train[tr[k]] = 1;
  /* some label noise so propagation has something to do: every 4th node shifted */
  for (int64_t i = 0; i < n; ++i)
    if (i % 4 == 0 && lab[i] >= 0) lab[i] = (lab[i] + 1) % K;
  size_t n_tot = (size_t)g->n_own + g->n_ghost;
  double *Y = malloc(n_tot * K * sizeof(double)), *W = malloc((n_tot + g->n_own) * K * sizeof(double));
  double *Yr = malloc(n * K * sizeof(double));
  int32_t *noisy = malloc(g->n_own * sizeof(int32_t));
  for (er_lidx i = 0; i < g->n_own; ++i) noisy[i] = lab[g->gid[i]];
  const char *vname[2] = {"train-subgraph", "global"};
  for (int v = 0; v < 3; ++v) {
    if (v < 2) {
      TEST_OK(er_denoise(g, noisy, K, (er_denoise_variant)v, 0.6, 5, Y));
      er_denoise_ref(&A, is_train, lab, K, (er_denoise_variant)v, 0.6, 5, Yr);
    } else {
      for (size_t i = 0; i < (size_t)g->n_own; ++i)
        for (int c = 0; c < K; ++c) Y[i * K + c] = er_rng_uniform(5, 1, g->gid[i], c);
      for (int64_t i = 0; i < n; ++i)
        for (int c = 0; c < K; ++c) Yr[i * K + c] = er_rng_uniform(5, 1, i, c);
      TEST_OK(er_propagate(g, K, 0.6, 5, Y, W));
      er_propagate_ref(&A, K, 0.6, 5, Yr);
    }
    double maxdiff = 0, maxval = 0;
    for (size_t i = 0; i < (size_t)g->n_own; ++i)
      for (int c = 0; c < K; ++c) {
        double a = Y[i * K + c], b = Yr[g->gid[i] * K + c];
        maxdiff = fmax(maxdiff, fabs(a - b));
        maxval = fmax(maxval, fabs(b));
      }
    double gd, gv;
    MPI_Allreduce(&maxdiff, &gd, 1, MPI_DOUBLE, MPI_MAX, comm);
    MPI_Allreduce(&maxval, &gv, 1, MPI_DOUBLE, MPI_MAX, comm);
    if (rank == 0)
      printf("%s P=%d %s: max |dist - ref| = %.3e (max |ref| %.3f)\n", label, size,
             v < 2 ? vname[v] : "semantic", gd, gv);
    TEST_CHECK(gd < 1e-6 && gv > 0.1, "%s variant %d: diff %g", label, v, gd);
  }
  free(Y), free(W), free(Yr), free(noisy), free(lab), free(tr), free(is_train);
  er_csr_free(&A);
  er_dgraph_destroy(&g);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  char cora[4096], gen[4096];
  if (er_test_make_cora(cora, sizeof cora)) check(cora, "cora");
  else printf("note: Cora absent, checked the generated graph only\n");
  er_test_make_generated(gen, sizeof gen, 2500);
  check(gen, "gen");
  return er_test_finish("test_prop");
}
