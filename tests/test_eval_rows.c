/* test_eval_rows.c: the evaluation forward restricted to the labelled rows' two-hop
 * neighbourhood (er_encoder_eval_rows_f + ER_FWD_EVAL_ROWS) gives the full evaluation forward's
 * Z at those rows, at any rank count, for dense and sparse first layers, with float and bf16
 * gathers; with the plan declined (max_fraction 0) it is the full forward everywhere. Buffers
 * are first filled by a training forward (dropout) so that a row the subset forward forgot
 * would hold a different Z. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/encoder.h"
#include "erase/h5.h"
#include "erase/nn.h"
#include "erase/partition.h"
#include "fixture.h"
#include "testutil.h"

static void check_case(er_dgraph *g, const float *x, const char *name, double max_fraction,
                       int want_active, int64_t hidden, int64_t heads, int64_t d, int bf16) {
  MPI_Comm comm = g->comm;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int64_t n = g->n_own;
  er_encoder_f *enc = NULL;
  TEST_OK(er_encoder_create_f(g, x, hidden, heads, d, 0.5, bf16, &enc));
  er_encoder_init_f(enc, 7);
  uint8_t *want = calloc((size_t)n + 1, 1);
  for (int64_t i = 0; i < n; ++i) want[i] = g->split[i] != 0;
  int active = -1;
  TEST_OK(er_encoder_eval_rows_f(enc, want, max_fraction, &active));
  TEST_CHECK(active == want_active, "%s: plan active %d, expected %d", name, active, want_active);
  const float *Z;
  float *full = malloc((size_t)(n * d + 1) * sizeof(float));
  TEST_OK(er_encoder_forward_f(enc, ER_FWD_EVAL, 1, 1, &Z));
  memcpy(full, Z, (size_t)(n * d) * sizeof(float));
  TEST_OK(er_encoder_forward_f(enc, ER_FWD_TRAIN, 1, 1, &Z)); /* stale, different values */
  double stale = 0, zmax = 0, diff = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k)
      if (want[i] || !active) stale = fmax(stale, fabs(Z[i * d + k] - full[i * d + k]));
  TEST_OK(er_encoder_forward_f(enc, ER_FWD_EVAL_ROWS, 1, 1, &Z));
  int64_t checked = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!want[i] && active) continue;
    checked++;
    for (int64_t k = 0; k < d; ++k) {
      zmax = fmax(zmax, fabs(full[i * d + k]));
      diff = fmax(diff, fabs(Z[i * d + k] - full[i * d + k]));
    }
  }
  double v[3] = {diff, zmax, stale};
  MPI_Allreduce(MPI_IN_PLACE, v, 3, MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(MPI_IN_PLACE, &checked, 1, MPI_INT64_T, MPI_SUM, comm);
  if (rank == 0)
    printf("%s P=%d active=%d: %lld rows checked, max |Z_rows - Z_full| %.3e (max |Z| %.3e; "
           "training-forward Z differs by %.3e)\n",
           name, size, active, (long long)checked, v[0], v[1], v[2]);
  TEST_CHECK(checked > 0, "%s: no rows checked", name);
  TEST_CHECK(v[2] > 1e-3 * v[1], "%s: the training forward did not change Z: the test is blind",
             name);
  /* bf16: a row of h1 = x W1 from the chunked product may round to the other bf16 neighbour */
  const double tol = bf16 ? 1e-3 : 1e-6;
  TEST_CHECK(v[0] <= tol * v[1], "%s: subset forward differs from the full one by %g", name,
             v[0]);
  free(full);
  free(want);
  er_encoder_destroy_f(&enc);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm comm = MPI_COMM_WORLD;
  int size;
  MPI_Comm_size(comm, &size);
  char path[4096];
  snprintf(path, sizeof path, "%s/g.h5", er_test_tmpdir());
  /* 40 labelled nodes of 3000, degree 4: the layer-1 rows needed are ~10% of the graph */
  er_generate_opts o = {.nodes = 3000, .avg_degree = 4, .classes = 4, .features = 12,
                        .homophily = 0.7, .feature_snr = 1.0, .train_per_class = 5,
                        .val = 10, .test = 10, .seed = 5, .out = path};
  er_dgraph *g = NULL;
  TEST_OK(er_test_generated_graph(comm, &o, &g));
  int64_t n = g->n_own, F = g->F;
  float *x = malloc((size_t)(n * F + 1) * sizeof(float));
  for (int64_t k = 0; k < n * F; ++k) x[k] = g->x[k] - 0.5f * (float)(k % 3); /* dense */
  check_case(g, x, "dense", 0.5, 1, 16, 4, 24, 0);
  check_case(g, x, "declined", 0.0, 0, 16, 4, 24, 0);
  check_case(g, x, "dense bf16", 0.5, 1, 16, 4, 24, 1);
  /* keep one entry in ten, non-negative: the first layer runs sparse x dense */
  for (int64_t k = 0; k < n * F; ++k) x[k] = (k % 10 == 0) ? fabsf(g->x[k]) + 0.1f : 0.0f;
  check_case(g, x, "sparse", 0.5, 1, 16, 4, 24, 0);
  check_case(g, x, "sparse bf16", 0.5, 1, 16, 4, 24, 1);
  free(x);
  er_dgraph_destroy(&g);
  /* 40 nodes, hidden 2, embed 128: n_tot x hidden is smaller than one chunk row of the layer-2
   * transform (hidden + embed); the scratch is sized up to that row and the transform runs in
   * chunks of one or a few rows */
  er_generate_opts t = {.nodes = 40, .avg_degree = 4, .classes = 2, .features = 6,
                        .homophily = 0.7, .feature_snr = 1.0, .train_per_class = 3,
                        .val = 4, .test = 4, .seed = 6, .out = path};
  TEST_OK(er_test_generated_graph(comm, &t, &g));
  n = g->n_own, F = g->F;
  x = malloc((size_t)(n * F + 1) * sizeof(float));
  for (int64_t k = 0; k < n * F; ++k) x[k] = g->x[k] - 0.5f * (float)(k % 3);
  check_case(g, x, "tiny", 1.0, 1, 2, 1, 128, 0);
  check_case(g, x, "tiny bf16", 1.0, 1, 2, 1, 128, 1);
  free(x);
  er_dgraph_destroy(&g);
  return er_test_finish("test_eval_rows");
}
