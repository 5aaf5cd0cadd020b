/* test_loss_errors.c: failures are agreed on by every rank (bad label or NaN on one rank only,
 * no rows at all, backward before forward, bad create arguments) and the handle stays usable. */
#include <stdlib.h>
#include <string.h>

#include "erase/loss.h"
#include "loss_gen.h"
#include "testutil.h"

static void run(int solver) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int d = 8, K = 3;
  const int64_t N = 64;
  int64_t lo, hi;
  er_block_range(N, size, rank, &lo, &hi);
  int64_t n = hi - lo;
  double *Z = malloc(sizeof(double) * n * d), *dZ = malloc(sizeof(double) * n * d);
  int32_t *L = malloc(sizeof(int32_t) * n);
  er_loss_gen_rows(3, lo, n, d, K, Z, L);
  er_mcr2 *h = NULL;
  er_mcr2_result res;
  er_err e;
  int last = rank == size - 1;

  e = er_mcr2_create(MPI_COMM_WORLD, 0, K, 1.0, 2.0, 0.05, solver, &h);
  TEST_CHECK(e == ER_ERR_INPUT && h == NULL, "create with d=0 -> %d", e);
  er_error_clear();
  e = er_mcr2_create(MPI_COMM_WORLD, d, K, 1.0, 2.0, -1.0, solver, &h);
  TEST_CHECK(e == ER_ERR_INPUT && h == NULL, "create with eps<0 -> %d", e);
  er_error_clear();
  TEST_OK(er_mcr2_create(MPI_COMM_WORLD, d, K, 1.0, 2.0, 0.05, solver, &h));
  if (!h) goto out;

  e = er_mcr2_backward_d(h, dZ, Z, L, n);
  TEST_CHECK(e == ER_ERR_INTERNAL, "backward before forward -> %d", e);
  er_error_clear();

  /* label out of range on the last rank only */
  int32_t keep = L[0];
  if (last) L[0] = K;
  e = er_mcr2_forward_d(h, Z, L, n, &res);
  TEST_CHECK(e == ER_ERR_INPUT, "bad label -> %d", e);
  TEST_CHECK(strstr(er_error_message(), "outside [0, 3)") != NULL, "message: %s",
             er_error_message());
  if (rank == 0) printf("bad label (ranks=%d): %s\n", size, er_error_message());
  L[0] = keep;
  er_error_clear();
  e = er_mcr2_backward_d(h, dZ, Z, L, n);
  TEST_CHECK(e == ER_ERR_INTERNAL, "backward after a failed forward -> %d", e);
  er_error_clear();

  /* NaN on the last rank only */
  double z0 = Z[1];
  if (last) Z[1] = NAN;
  e = er_mcr2_forward_d(h, Z, L, n, &res);
  TEST_CHECK(e == ER_ERR_NUM, "NaN in Z -> %d", e);
  TEST_CHECK(strstr(er_error_message(), "non-finite") != NULL, "message: %s", er_error_message());
  if (rank == 0) printf("NaN (ranks=%d): %s\n", size, er_error_message());
  Z[1] = z0;
  er_error_clear();

  /* float path, NaN on the last rank */
  float *Zf = malloc(sizeof(float) * n * d);
  for (int64_t i = 0; i < n * d; i++) Zf[i] = (float)Z[i];
  if (last) Zf[n * d - 1] = INFINITY;
  e = er_mcr2_forward_f(h, Zf, L, n, &res);
  TEST_CHECK(e == ER_ERR_NUM, "Inf in float Z -> %d", e);
  free(Zf);
  er_error_clear();

  /* no rows anywhere */
  e = er_mcr2_forward_d(h, Z, L, 0, &res);
  TEST_CHECK(e == ER_ERR_INPUT, "N = 0 -> %d", e);
  er_error_clear();

  /* the handle is still usable: valid forward and backward succeed; rows only on rank 0 work */
  TEST_OK(er_mcr2_forward_d(h, Z, L, n, &res));
  TEST_OK(er_mcr2_backward_d(h, dZ, Z, L, n));
  TEST_CHECK(isfinite(res.loss) && res.N == (double)N, "loss %g N %g", res.loss, res.N);
  int want = solver != ER_MCR2_AUTO ? solver
             : (size > 1 && d >= er_mcr2_scalapack_min_d) ? ER_MCR2_SCALAPACK
                                                          : ER_MCR2_LAPACK;
  TEST_CHECK(res.solver == want, "solver %d resolved to %d, want %d", solver, res.solver, want);
  e = er_mcr2_backward_d(h, dZ, Z, L, n + 1);
  TEST_CHECK(e == ER_ERR_INTERNAL, "backward with another n_local -> %d", e);
  er_error_clear();
  TEST_OK(er_mcr2_forward_d(h, Z, L, rank == 0 ? n : 0, &res));
  TEST_CHECK(res.N == (double)(hi - lo) || size > 1, "N %g", res.N);
out:
  er_mcr2_destroy(&h);
  er_mcr2_destroy(&h); /* accepts NULL */
  free(Z);
  free(dZ);
  free(L);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  run(ER_MCR2_LAPACK);
  run(ER_MCR2_SCALAPACK);
  run(ER_MCR2_AUTO);
  return er_test_finish("test_loss_errors");
}
