/* mcr2_ref.c: plain serial reference of the coding-rate loss and its gradient on the whole Z:
 * naive triple loops in double, dpotrf for logdets, inverses by dpotrs against the identity.
 * Deliberately slow and simple; tests compare the distributed forward/backward against it. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/loss.h"

/* logdet of SPD A (d, d) and, if inv != NULL, its inverse. A is overwritten by its factor. */
static er_err ref_logdet_inv(int d, double *A, double *logdet, double *inv) {
  er_err err = ER_OK;
  lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, A, d);
  ER_CHECK(info == 0, ER_ERR_NUM, "mcr2_ref: dpotrf info=%d", (int)info);
  *logdet = 0.0;
  for (int i = 0; i < d; i++) *logdet += 2.0 * log(A[(size_t)i * d + i]);
  if (inv) {
    memset(inv, 0, (size_t)d * d * sizeof *inv);
    for (int i = 0; i < d; i++) inv[(size_t)i * d + i] = 1.0;
    info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', d, d, A, d, inv, d);
    ER_CHECK(info == 0, ER_ERR_NUM, "mcr2_ref: dpotrs info=%d", (int)info);
  }
cleanup:
  return err;
}

er_err er_mcr2_ref(const double *Z, const int32_t *L, int64_t N, int d, int K, double gamma1,
                   double gamma2, double eps, er_mcr2_result *res, double *dZ) {
  er_err err = ER_OK;
  size_t dd = (size_t)d * d;
  double *G = NULL, *Gj = NULL, *A = NULL, *M0 = NULL, *Mj = NULL, *cnt = NULL;
  memset(res, 0, sizeof *res);
  ER_CHECK(N > 0 && d > 0 && K > 0, ER_ERR_INPUT, "mcr2_ref: need N, d, K > 0");
  for (int64_t i = 0; i < N; i++)
    ER_CHECK(L[i] >= 0 && L[i] < K, ER_ERR_INPUT, "mcr2_ref: label %d of row %lld outside [0,%d)",
             (int)L[i], (long long)i, K);
  ER_CALLOC(G, dd);
  ER_MALLOC(Gj, dd);
  ER_MALLOC(A, dd);
  ER_MALLOC(M0, dd);
  ER_MALLOC(Mj, (size_t)K * dd);
  ER_CALLOC(cnt, K);
  double m = (double)N;

  for (int64_t n = 0; n < N; n++) {
    cnt[L[n]] += 1.0;
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++) G[(size_t)a * d + b] += Z[n * d + a] * Z[n * d + b];
  }
  double c0 = d / (m * eps), ld;
  for (size_t q = 0; q < dd; q++) A[q] = gamma1 * c0 * G[q] + (q % (d + 1) == 0);
  ER_CALL(ref_logdet_inv(d, A, &ld, M0));
  res->R = 0.5 * ld;
  for (size_t q = 0; q < dd; q++) A[q] = c0 * G[q] + (q % (d + 1) == 0);
  ER_CALL(ref_logdet_inv(d, A, &ld, NULL));
  res->R_th = 0.5 * ld;

  for (int j = 0; j < K; j++) {
    double mj = cnt[j] + 1e-8;
    memset(Gj, 0, dd * sizeof *Gj);
    for (int64_t n = 0; n < N; n++) {
      if (L[n] != j) continue;
      for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) Gj[(size_t)a * d + b] += Z[n * d + a] * Z[n * d + b];
    }
    double cj = d / (mj * eps);
    for (size_t q = 0; q < dd; q++) A[q] = cj * Gj[q] + (q % (d + 1) == 0);
    ER_CALL(ref_logdet_inv(d, A, &ld, Mj + (size_t)j * dd));
    res->Rc += mj / (2.0 * m) * ld;
  }
  res->loss = -gamma2 * res->R + gamma1 * res->Rc;
  res->delta_R = res->R_th - res->Rc;
  res->N = m;
  res->solver = ER_MCR2_LAPACK;

  if (dZ) {
    double cb = gamma1 * c0;
    for (int64_t n = 0; n < N; n++) {
      const double *M = Mj + (size_t)L[n] * dd;
      double *out = dZ + n * d;
      for (int b = 0; b < d; b++) out[b] = 0.0;
      for (int a = 0; a < d; a++) {
        double z = cb * Z[n * d + a];
        for (int b = 0; b < d; b++)
          out[b] += z * (M[(size_t)a * d + b] - gamma2 * M0[(size_t)a * d + b]);
      }
    }
  }
cleanup:
  free(G);
  free(Gj);
  free(A);
  free(M0);
  free(Mj);
  free(cnt);
  return err;
}
