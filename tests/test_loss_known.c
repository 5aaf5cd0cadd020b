/* test_loss_known.c: closed forms of R, Rc, R_th, loss and gradient when the classes live in
 * orthogonal coordinate subspaces (class j: rows s*e_{2j} and s*e_{2j+1} alternately); there
 * Delta R > 0, and it exceeds Delta R of the same rows folded onto two shared axes. */
#include <stdlib.h>
#include <string.h>

#include "erase/loss.h"
#include "loss_gen.h"
#include "testutil.h"

/* Global row i: class j = i % K, axis = 2j + (i / K) % 2 (orthogonal), or (i / K) % 2 (shared). */
static void make_rows(int64_t lo, int64_t n, int d, int K, double s, int shared, double *Z,
                      int32_t *L) {
  memset(Z, 0, sizeof(double) * n * d);
  for (int64_t r = 0; r < n; r++) {
    int64_t i = lo + r;
    int j = (int)(i % K), ax = (int)((i / K) % 2);
    L[r] = j;
    Z[r * d + (shared ? ax : 2 * j + ax)] = s;
  }
}

static void run(int solver) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int K = 3, d = 2 * K;
  const int64_t N = 24; /* n_j = 8 rows per class, 4 on each of its two axes */
  const double s = 0.8, gamma1 = 1.0, gamma2 = 2.0, eps = 0.05;
  int64_t lo, hi;
  er_block_range(N, size, rank, &lo, &hi);
  int64_t n = hi - lo;
  double *Z = malloc(sizeof(double) * (n ? n : 1) * d), *dZ = malloc(sizeof(double) * (n ? n : 1) * d);
  int32_t *L = malloc(sizeof(int32_t) * (n ? n : 1));
  er_mcr2 *h = NULL;
  er_mcr2_result res, res_sh;
  TEST_OK(er_mcr2_create(MPI_COMM_WORLD, d, K, gamma1, gamma2, eps, solver, &h));
  if (!h) goto out;

  //---- orthogonal classes ----
  make_rows(lo, n, d, K, s, 0, Z, L);
  TEST_OK(er_mcr2_forward_d(h, Z, L, n, &res));
  TEST_OK(er_mcr2_backward_d(h, dZ, Z, L, n));
  double m = (double)N, nj = (double)(N / K), mj = nj + 1e-8;
  /* Z^T Z = (nj/2) s^2 I_d; Z_j^T Z_j = (nj/2) s^2 on the two axes of class j, 0 elsewhere */
  double a0 = gamma1 * d / (m * eps) * (nj / 2) * s * s;
  double aj = d / (mj * eps) * (nj / 2) * s * s;
  double R = 0.5 * d * log1p(a0);
  double R_th = 0.5 * d * log1p(d / (m * eps) * (nj / 2) * s * s);
  double Rc = K * (mj / (2 * m)) * 2.0 * log1p(aj);
  double loss = -gamma2 * R + gamma1 * Rc;
  TEST_CHECK(er_loss_rel(res.R, R) < 1e-13, "R %.17g vs closed form %.17g", res.R, R);
  TEST_CHECK(er_loss_rel(res.Rc, Rc) < 1e-13, "Rc %.17g vs closed form %.17g", res.Rc, Rc);
  TEST_CHECK(er_loss_rel(res.R_th, R_th) < 1e-13, "R_th %.17g vs %.17g", res.R_th, R_th);
  TEST_CHECK(er_loss_rel(res.loss, loss) < 1e-13, "loss %.17g vs closed form %.17g", res.loss,
             loss);
  TEST_CHECK(res.delta_R > 0.0, "Delta R = %g must be > 0 for orthogonal classes", res.delta_R);
  /* gradient: row s e_k of class j -> gamma1 d/(m eps) s (1/(1+aj) - gamma2/(1+a0)) e_k */
  double gk = gamma1 * d / (m * eps) * s * (1.0 / (1.0 + aj) - gamma2 / (1.0 + a0));
  double gerr = 0.0;
  for (int64_t r = 0; r < n; r++)
    for (int c = 0; c < d; c++) {
      double want = Z[r * d + c] != 0.0 ? gk : 0.0;
      double e = fabs(dZ[r * d + c] - want);
      if (e > gerr) gerr = e;
    }
  MPI_Allreduce(MPI_IN_PLACE, &gerr, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  TEST_CHECK(gerr < 1e-12 * fabs(gk), "gradient off the closed form by %.3e (gk=%g)", gerr, gk);

  //---- all classes on the same two axes: less rate reduction ----
  make_rows(lo, n, d, K, s, 1, Z, L);
  TEST_OK(er_mcr2_forward_d(h, Z, L, n, &res_sh));
  /* shared: Z^T Z = (N/2) s^2 on axes 0,1; every class Gram = (nj/2) s^2 on the same axes */
  double R_sh = 0.5 * 2 * log1p(d / (m * eps) * (m / 2) * s * s);
  double Rc_sh = K * (mj / (2 * m)) * 2.0 * log1p(aj);
  TEST_CHECK(er_loss_rel(res_sh.R_th, R_sh) < 1e-13 && er_loss_rel(res_sh.Rc, Rc_sh) < 1e-13,
             "shared: R_th %.17g/%.17g Rc %.17g/%.17g", res_sh.R_th, R_sh, res_sh.Rc, Rc_sh);
  TEST_CHECK(res.delta_R > res_sh.delta_R, "Delta R orthogonal %g must exceed shared %g",
             res.delta_R, res_sh.delta_R);
  er_log(MPI_COMM_WORLD,
         "solver=%d ranks=%d orthogonal: R=%.12f Rc=%.12f dR=%.12f (closed %.12f) | shared: "
         "dR=%.12f | grad err %.2e\n",
         solver, size, res.R, res.Rc, res.delta_R, R_th - Rc, res_sh.delta_R, gerr);
out:
  er_mcr2_destroy(&h);
  free(Z);
  free(dZ);
  free(L);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  run(ER_MCR2_LAPACK);
  run(ER_MCR2_SCALAPACK);
  return er_test_finish("test_loss_known");
}
