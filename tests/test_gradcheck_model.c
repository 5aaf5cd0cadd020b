/* test_gradcheck_model.c: central finite differences (double) of the whole distributed model:
 * dropout -> GAT -> LeakyReLU -> L1 -> GAT -> L1 -> ReLU -> MCR2 loss, against the analytical
 * gradient (encoder backward + loss backward + sum over ranks). Run at 1 and 3 ranks: ghost rows,
 * halo exchanges and the loss's Allreduce are all inside the checked function. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/dataset.h"
#include "erase/encoder.h"
#include "erase/h5.h"
#include "erase/loss.h"
#include "erase/nn.h"
#include "erase/partition.h"
#include "fixture.h"
#include "testutil.h"

typedef struct {
  er_encoder_d *enc;
  er_mcr2 *mcr;
  const int32_t *L;
  int64_t n_own;
} model;

static double model_loss(model *m) {
  const double *Z;
  er_mcr2_result r;
  TEST_OK(er_encoder_forward_d(m->enc, 1, 42, 3, &Z));
  TEST_OK(er_mcr2_forward_d(m->mcr, Z, m->L, m->n_own, &r));
  return r.loss;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  char path[4096];
  snprintf(path, sizeof path, "%s/g.h5", er_test_tmpdir());
  er_generate_opts o = {.nodes = 90, .avg_degree = 5, .classes = 3, .features = 7,
                        .homophily = 0.7, .feature_snr = 1.0, .train_per_class = 5,
                        .val = 10, .test = 10, .seed = 3, .out = path};
  er_dgraph *g = NULL;
  TEST_OK(er_test_generated_graph(comm, &o, &g));
  int64_t n = g->n_own, F = g->F;
  double *x = malloc((size_t)(n * F) * sizeof(double));
  for (int64_t k = 0; k < n * F; ++k) x[k] = g->x[k];
  double gmin = er_features_min_d(x, n, F);
  MPI_Allreduce(MPI_IN_PLACE, &gmin, 1, MPI_DOUBLE, MPI_MIN, comm);
  er_normalize_features_d(x, x, gmin, n, F);
  model m = {0};
  m.L = g->labels;
  m.n_own = n;
  /* bf16 gathers are a float-encoder option: the double encoder refuses them */
  er_encoder_d *no_bf16 = NULL;
  TEST_CHECK(er_encoder_create_d(g, x, 6, 2, 5, 0.3, 1, &no_bf16) == ER_ERR_INPUT && !no_bf16,
             "the double encoder accepted bf16 gathers");
  er_error_clear();
  TEST_OK(er_encoder_create_d(g, x, 6, 2, 5, 0.3, 0, &m.enc));
  TEST_OK(er_mcr2_create(comm, 5, g->K, 1.0, 2.0, 0.5, ER_MCR2_LAPACK, &m.mcr));
  er_encoder_init_d(m.enc, 11);
  const er_encoder_layout *L = er_encoder_layout_d(m.enc);
  double *p = er_encoder_params_d(m.enc), *gr = er_encoder_grads_d(m.enc);
  /* non-zero biases so their gradients are generic */
  for (int64_t k = L->b1; k < L->b1 + L->hidden; ++k) p[k] = 0.01 * (double)(k % 5) - 0.02;
  for (int64_t k = L->b2; k < L->b2 + L->embed; ++k) p[k] = 0.02 * (double)(k % 3) - 0.01;
  /* analytical */
  const double *Z;
  er_mcr2_result r;
  er_encoder_zero_grads_d(m.enc);
  TEST_OK(er_encoder_forward_d(m.enc, 1, 42, 3, &Z));
  TEST_OK(er_mcr2_forward_d(m.mcr, Z, m.L, n, &r));
  double *dZ = malloc((size_t)(n * L->embed) * sizeof(double));
  TEST_OK(er_mcr2_backward_d(m.mcr, dZ, Z, m.L, n));
  TEST_OK(er_encoder_backward_d(m.enc, dZ));
  MPI_Allreduce(MPI_IN_PLACE, gr, (int)L->n_params, MPI_DOUBLE, MPI_SUM, comm);
  /* finite differences on every parameter tensor (a spread of entries of each) */
  const char *names[8] = {"W1", "a_src1", "a_dst1", "b1", "W2", "a_src2", "a_dst2", "b2"};
  int64_t offs[9] = {L->W1, L->as1, L->ad1, L->b1, L->W2, L->as2, L->ad2, L->b2, L->n_params};
  /* error relative to the entry, floored at 1e-3 of the largest gradient entry: FD noise of a
   * loss of O(1) with h = 1e-6 is ~1e-10 absolute, which small entries cannot resolve */
  double gmax = 0;
  for (int64_t k = 0; k < L->n_params; ++k) gmax = fmax(gmax, fabs(gr[k]));
  double worst = 0;
  int nbad = 0, nchk = 0;
  for (int t = 0; t < 8; ++t) {
    double tmax = 0;
    int64_t len = offs[t + 1] - offs[t], stride = len > 12 ? len / 12 : 1;
    for (int64_t k = offs[t]; k < offs[t + 1]; k += stride) {
      double v = p[k], h = 1e-6 * fmax(fabs(v), 1.0);
      p[k] = v + h;
      double lp = model_loss(&m);
      p[k] = v - h;
      double lm = model_loss(&m);
      p[k] = v;
      double fd = (lp - lm) / (2 * h), an = gr[k];
      double rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-3 * gmax);
      tmax = fmax(tmax, rel);
      nchk++;
      nbad += rel > 1e-5;
    }
    worst = fmax(worst, tmax);
    if (rank == 0) printf("model gradcheck P=%d %-7s max rel err %.3e\n", size, names[t], tmax);
  }
  if (rank == 0)
    printf("model gradcheck P=%d loss %.10f: %d entries, worst %.3e (floor 1e-3 x max|grad| = %.2e)\n",
           size, r.loss, nchk, worst, 1e-3 * gmax);
  TEST_CHECK(nbad == 0, "%d of %d finite-difference checks above 1e-5 (worst %g)", nbad, nchk, worst);
  free(dZ);
  free(x);
  er_mcr2_destroy(&m.mcr);
  er_encoder_destroy_d(&m.enc);
  er_dgraph_destroy(&g);
  return er_test_finish("test_gradcheck_model");
}
