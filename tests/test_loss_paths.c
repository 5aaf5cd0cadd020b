/* test_loss_paths.c: LAPACK (replicated) and ScaLAPACK (BLACS grid) solvers give the same MCR²
 * loss and gradient, and both equal the plain serial reference computed on rank 0 from the full
 * Z, so results do not depend on the rank count. d = 64 (N = 3000) and 512 (N = 2000), K = 7. */
#include <stdlib.h>
#include <string.h>

#include "erase/loss.h"
#include "loss_gen.h"
#include "testutil.h"

/* Gather the distributed (n, d) blocks to rank 0 (global row order = rank order). */
static void gather_rows(const double *loc, int64_t n, int d, double *glob, int64_t N) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int *cnt = malloc(sizeof(int) * size), *dsp = malloc(sizeof(int) * size);
  for (int r = 0; r < size; r++) {
    int64_t lo, hi;
    er_block_range(N, size, r, &lo, &hi);
    cnt[r] = (int)((hi - lo) * d);
    dsp[r] = (int)(lo * d);
  }
  MPI_Gatherv(loc, (int)(n * d), MPI_DOUBLE, glob, cnt, dsp, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  free(cnt);
  free(dsp);
}

static void run(int d, int64_t N, int K) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const double gamma1 = 1.0, gamma2 = 2.0, eps = 0.05; /* Cora's reference values */
  int64_t lo, hi;
  er_block_range(N, size, rank, &lo, &hi);
  int64_t n = hi - lo;
  double *Z = malloc(sizeof(double) * n * d), *gl = malloc(sizeof(double) * n * d);
  double *gs = malloc(sizeof(double) * n * d);
  float *Zf = malloc(sizeof(float) * n * d), *glf = malloc(sizeof(float) * n * d);
  float *gsf = malloc(sizeof(float) * n * d);
  int32_t *L = malloc(sizeof(int32_t) * n);
  er_loss_gen_rows(7, lo, n, d, K, Z, L);
  for (int64_t i = 0; i < n * d; i++) Zf[i] = (float)Z[i];

  er_mcr2 *hl = NULL, *hs = NULL;
  er_mcr2_result rl, rs, rlf, rsf, ref;
  TEST_OK(er_mcr2_create(MPI_COMM_WORLD, d, K, gamma1, gamma2, eps, ER_MCR2_LAPACK, &hl));
  TEST_OK(er_mcr2_create(MPI_COMM_WORLD, d, K, gamma1, gamma2, eps, ER_MCR2_SCALAPACK, &hs));
  if (!hl || !hs) goto out;

  //---- double: LAPACK vs ScaLAPACK ----
  TEST_OK(er_mcr2_forward_d(hl, Z, L, n, &rl));
  TEST_OK(er_mcr2_backward_d(hl, gl, Z, L, n));
  TEST_OK(er_mcr2_forward_d(hs, Z, L, n, &rs));
  TEST_OK(er_mcr2_backward_d(hs, gs, Z, L, n));
  TEST_CHECK(rl.solver == ER_MCR2_LAPACK && rs.solver == ER_MCR2_SCALAPACK, "solver %d %d",
             rl.solver, rs.solver);
  double eloss = er_loss_rel(rs.loss, rl.loss);
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n * d; i++) {
    if (fabs(gs[i] - gl[i]) > num) num = fabs(gs[i] - gl[i]);
    if (fabs(gl[i]) > den) den = fabs(gl[i]);
  }
  MPI_Allreduce(MPI_IN_PLACE, &num, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &den, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  double egrad = num / den;
  TEST_CHECK(eloss < 1e-8, "d=%d: LAPACK loss %.17g vs ScaLAPACK %.17g", d, rl.loss, rs.loss);
  TEST_CHECK(er_loss_rel(rs.R, rl.R) < 1e-8 && er_loss_rel(rs.Rc, rl.Rc) < 1e-8 &&
                 er_loss_rel(rs.delta_R, rl.delta_R) < 1e-8,
             "d=%d: R/Rc/dR differ", d);
  TEST_CHECK(egrad < 1e-8, "d=%d: LAPACK vs ScaLAPACK gradient rel err %.3e", d, egrad);

  //---- float: same Grams, so the solvers still agree closely ----
  TEST_OK(er_mcr2_forward_f(hl, Zf, L, n, &rlf));
  TEST_OK(er_mcr2_backward_f(hl, glf, Zf, L, n));
  TEST_OK(er_mcr2_forward_f(hs, Zf, L, n, &rsf));
  TEST_OK(er_mcr2_backward_f(hs, gsf, Zf, L, n));
  double eloss_f = er_loss_rel(rsf.loss, rlf.loss), numf = 0.0, denf = 0.0;
  for (int64_t i = 0; i < n * d; i++) {
    if (fabs((double)gsf[i] - glf[i]) > numf) numf = fabs((double)gsf[i] - glf[i]);
    if (fabs((double)glf[i]) > denf) denf = fabs((double)glf[i]);
  }
  MPI_Allreduce(MPI_IN_PLACE, &numf, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &denf, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  TEST_CHECK(eloss_f < 1e-8, "d=%d: float LAPACK loss %.17g vs ScaLAPACK %.17g", d, rlf.loss,
             rsf.loss);
  TEST_CHECK(numf / denf < 1e-5, "d=%d: float gradients differ by %.3e", d, numf / denf);

  //---- serial reference on rank 0 from the full Z ----
  double *Zall = NULL, *gref = NULL, *gall = NULL;
  int32_t *Lall = NULL;
  double refv[5] = {0}, eref_grad = 0.0;
  if (rank == 0) {
    Zall = malloc(sizeof(double) * N * d);
    gref = malloc(sizeof(double) * N * d);
    gall = malloc(sizeof(double) * N * d);
    Lall = malloc(sizeof(int32_t) * N);
    er_loss_gen(7, N, d, K, Zall, Lall);
    TEST_OK(er_mcr2_ref(Zall, Lall, N, d, K, gamma1, gamma2, eps, &ref, gref));
    refv[0] = ref.loss;
    refv[1] = ref.R;
    refv[2] = ref.Rc;
    refv[3] = ref.R_th;
    refv[4] = ref.delta_R;
  }
  gather_rows(gl, n, d, gall, N);
  if (rank == 0) eref_grad = er_loss_relerr(gall, gref, N * d);
  MPI_Bcast(refv, 5, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  MPI_Bcast(&eref_grad, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  double eref = er_loss_rel(rl.loss, refv[0]);
  TEST_CHECK(eref < 1e-10, "d=%d: loss %.17g vs serial reference %.17g", d, rl.loss, refv[0]);
  TEST_CHECK(er_loss_rel(rl.R, refv[1]) < 1e-10 && er_loss_rel(rl.Rc, refv[2]) < 1e-10 &&
                 er_loss_rel(rl.R_th, refv[3]) < 1e-10 &&
                 er_loss_rel(rl.delta_R, refv[4]) < 1e-10,
             "d=%d: R %.17g/%.17g Rc %.17g/%.17g", d, rl.R, refv[1], rl.Rc, refv[2]);
  TEST_CHECK(eref_grad < 1e-10, "d=%d: gradient vs serial reference rel err %.3e", d, eref_grad);
  TEST_CHECK(er_loss_rel(rlf.loss, refv[0]) < 1e-5, "d=%d: float loss %.10g vs ref %.10g", d,
             rlf.loss, refv[0]);
  er_log(MPI_COMM_WORLD,
         "d=%-4d N=%lld K=%d ranks=%d loss=%.15f (ref %.15f) dR=%.10f | lapack~scalapack: loss "
         "%.1e grad %.1e | vs ref: loss %.1e grad %.1e | float: loss %.1e grad %.1e\n",
         d, (long long)N, K, size, rl.loss, refv[0], rl.delta_R, eloss, egrad, eref, eref_grad,
         eloss_f, numf / denf);
  er_log(MPI_COMM_WORLD, "  forward times: lapack %.3f s (comm %.3f)  scalapack %.3f s (comm %.3f)\n",
         rl.compute_s + rl.comm_s, rl.comm_s, rs.compute_s + rs.comm_s, rs.comm_s);
  free(Zall);
  free(gref);
  free(gall);
  free(Lall);
out:
  er_mcr2_destroy(&hl);
  er_mcr2_destroy(&hs);
  free(Z);
  free(gl);
  free(gs);
  free(Zf);
  free(glf);
  free(gsf);
  free(L);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  run(64, 3000, 7);
  run(512, 2000, 7);
  return er_test_finish("test_loss_paths");
}
