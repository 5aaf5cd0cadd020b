/* test_loss_gradcheck.c: central finite differences of the distributed MCR² loss in double on a
 * small global Z split over the ranks (every rank perturbs the same global entry), compared with
 * the analytic backward and with the serial reference. Also float vs double paths. */
#include <stdlib.h>
#include <string.h>

#include "erase/loss.h"
#include "loss_gen.h"
#include "testutil.h"

typedef struct {
  const char *name;
  int64_t N;
  int d, K, n_present;
  double gamma1, gamma2, eps;
} gc_case;

static void run_case(const gc_case *tc, int solver) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int64_t N = tc->N, lo, hi;
  int d = tc->d;
  er_block_range(N, size, rank, &lo, &hi);
  int64_t n = hi - lo;
  double *Z = malloc(sizeof(double) * N * d), *g_an = calloc(N * d, sizeof(double));
  double *g_fd = malloc(sizeof(double) * N * d), *g_ref = malloc(sizeof(double) * N * d);
  double *dZ = malloc(sizeof(double) * (n ? n : 1) * d);
  float *Zf = malloc(sizeof(float) * (n ? n : 1) * d), *dZf = malloc(sizeof(float) * (n ? n : 1) * d);
  int32_t *L = malloc(sizeof(int32_t) * N);
  er_loss_gen(42, N, d, tc->n_present, Z, L);

  er_mcr2 *h = NULL;
  er_mcr2_result res, ref;
  TEST_OK(er_mcr2_create(MPI_COMM_WORLD, d, tc->K, tc->gamma1, tc->gamma2, tc->eps, solver, &h));
  if (!h) goto out;

  //---- analytic gradient, gathered to every rank ----
  TEST_OK(er_mcr2_forward_d(h, Z + lo * d, L + lo, n, &res));
  TEST_OK(er_mcr2_backward_d(h, dZ, Z + lo * d, L + lo, n));
  memcpy(g_an + lo * d, dZ, sizeof(double) * n * d);
  MPI_Allreduce(MPI_IN_PLACE, g_an, (int)(N * d), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);

  //---- reference (every rank computes it: tiny) ----
  TEST_OK(er_mcr2_ref(Z, L, N, d, tc->K, tc->gamma1, tc->gamma2, tc->eps, &ref, g_ref));
  TEST_CHECK(er_loss_rel(res.loss, ref.loss) < 1e-12, "%s: loss %.17g vs ref %.17g", tc->name,
             res.loss, ref.loss);
  TEST_CHECK(er_loss_rel(res.R, ref.R) < 1e-12 && er_loss_rel(res.Rc, ref.Rc) < 1e-12 &&
                 er_loss_rel(res.R_th, ref.R_th) < 1e-12 &&
                 er_loss_rel(res.delta_R, ref.delta_R) < 1e-10,
             "%s: R %.17g/%.17g Rc %.17g/%.17g R_th %.17g/%.17g", tc->name, res.R, ref.R, res.Rc,
             ref.Rc, res.R_th, ref.R_th);
  TEST_CHECK(res.N == (double)N, "%s: N %g", tc->name, res.N);
  double e_ref = er_loss_relerr(g_an, g_ref, N * d);
  TEST_CHECK(e_ref < 1e-12, "%s: gradient vs reference rel err %.3e", tc->name, e_ref);

  //---- central finite differences on every global entry (every 3rd for ScaLAPACK, whose
  //     analytic gradient is already tied to the reference above; keeps the test short) ----
  const double step = 1e-5;
  int stride = solver == ER_MCR2_SCALAPACK ? 3 : 1;
  for (int64_t e = 0; e < N * d; e++) g_fd[e] = g_an[e];
  for (int64_t e = 0; e < N * d; e += stride) {
    double z0 = Z[e], lp = 0.0, lm = 0.0;
    er_mcr2_result r;
    Z[e] = z0 + step;
    TEST_OK(er_mcr2_forward_d(h, Z + lo * d, L + lo, n, &r));
    lp = r.loss;
    Z[e] = z0 - step;
    TEST_OK(er_mcr2_forward_d(h, Z + lo * d, L + lo, n, &r));
    lm = r.loss;
    Z[e] = z0;
    g_fd[e] = (lp - lm) / (2.0 * step);
  }
  double e_fd = er_loss_relerr(g_fd, g_an, N * d);
  er_log(MPI_COMM_WORLD,
         "%-28s solver=%d ranks=%d loss=%.12f dR=%.6f  FD rel err %.3e  ref rel err %.3e\n",
         tc->name, res.solver, size, res.loss, res.delta_R, e_fd, e_ref);
  TEST_CHECK(e_fd < 1e-6, "%s: finite-difference rel err %.3e", tc->name, e_fd);

  //---- float path agrees with double to float accuracy ----
  for (int64_t i = 0; i < n * d; i++) Zf[i] = (float)Z[lo * d + i];
  er_mcr2_result rf;
  TEST_OK(er_mcr2_forward_f(h, Zf, L + lo, n, &rf));
  TEST_OK(er_mcr2_backward_f(h, dZf, Zf, L + lo, n));
  TEST_CHECK(er_loss_rel(rf.loss, ref.loss) < 1e-5, "%s: float loss %.10g vs %.10g", tc->name,
             rf.loss, ref.loss);
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n * d; i++) {
    double df = fabs((double)dZf[i] - g_ref[lo * d + i]);
    if (df > num) num = df;
  }
  for (int64_t i = 0; i < N * d; i++)
    if (fabs(g_ref[i]) > den) den = fabs(g_ref[i]);
  MPI_Allreduce(MPI_IN_PLACE, &num, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  TEST_CHECK(num / den < 1e-4, "%s: float gradient rel err %.3e", tc->name, num / den);

out:
  er_mcr2_destroy(&h);
  TEST_CHECK(h == NULL, "destroy must NULL the handle");
  free(Z);
  free(g_an);
  free(g_fd);
  free(g_ref);
  free(dZ);
  free(Zf);
  free(dZf);
  free(L);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const gc_case cases[] = {
      {"cora-like, all classes", 40, 6, 3, 3, 1.0, 2.0, 0.05},
      {"empty class 3 of 4", 40, 6, 4, 3, 1.0, 2.0, 0.05},
      {"gamma1=0.7 gamma2=3 eps=0.4", 40, 6, 3, 3, 0.7, 3.0, 0.4},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    run_case(&cases[c], ER_MCR2_LAPACK);
    run_case(&cases[c], ER_MCR2_SCALAPACK);
  }
  return er_test_finish("test_loss_gradcheck");
}
