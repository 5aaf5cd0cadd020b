/* semantic.c: per-epoch semantic labels: prototypes (one Allreduce of K x d sums and counts),
 * |cos| to prototypes via one GEMM, softmax mix with Y_den, propagation, argmax. No gradient
 * flows through them (ERASE.md section 4). */
#include "erase/semantic.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/prop.h"

struct er_semantic {
  er_dgraph *g;
  int K, d, T;
  double alpha, beta;
  const double *Yden;
  int32_t *den_class; /* (n_own) argmax of Y_den for training rows, -1 otherwise */
  double *proto;      /* (K*d + K) sums then means, and counts */
  float *protof;      /* (K, d) unit prototypes */
  float *dots;        /* (n_own, K) */
  double *Y, *work;   /* (n_tot, K), (n_tot + n_own, K) */
};

static int argmax_d(const double *y, int K) {
  int b = 0;
  for (int c = 1; c < K; ++c)
    if (y[c] > y[b]) b = c;
  return b;
}

er_err er_semantic_create(er_dgraph *g, int K, int d, const double *Yden, double alpha,
                          double beta, int T, er_semantic **out) {
  er_err err = ER_OK;
  er_semantic *s = NULL;
  size_t no = (size_t)g->n_own, nt = no + (size_t)g->n_ghost;
  *out = NULL;
  ER_CALLOC(s, 1);
  s->g = g, s->K = K, s->d = d, s->T = T, s->alpha = alpha, s->beta = beta, s->Yden = Yden;
  ER_MALLOC(s->den_class, no);
  ER_MALLOC(s->proto, (size_t)K * d + K);
  ER_MALLOC(s->protof, (size_t)K * d);
  ER_MALLOC(s->dots, no * K);
  ER_CALLOC(s->Y, nt * K);
  ER_CALLOC(s->work, (nt + no) * K); /* er_propagate scratch */
  for (size_t i = 0; i < no; ++i)
    s->den_class[i] = (g->split[i] & ER_SPLIT_TRAIN) ? argmax_d(Yden + i * K, K) : -1;
  *out = s;
  s = NULL;
cleanup:
  er_semantic_destroy(&s);
  return err;
}

void er_semantic_destroy(er_semantic **ps) {
  if (!ps || !*ps) return;
  er_semantic *s = *ps;
  free(s->den_class), free(s->proto), free(s->protof), free(s->dots), free(s->Y), free(s->work);
  free(s);
  *ps = NULL;
}

er_err er_semantic_labels(er_semantic *s, const float *Z, int32_t *L, double *comm_s) {
  er_err err = ER_OK;
  int K = s->K, d = s->d;
  size_t no = (size_t)s->g->n_own;
  //---- prototypes: per-class means of Z over training rows (by argmax Y_den) ----
  memset(s->proto, 0, ((size_t)K * d + K) * sizeof(double));
  double *cnt = s->proto + (size_t)K * d;
  for (size_t i = 0; i < no; ++i) {
    int c = s->den_class[i];
    if (c < 0) continue;
    double *p = s->proto + (size_t)c * d;
    const float *z = Z + i * d;
    for (int k = 0; k < d; ++k) p[k] += z[k];
    cnt[c] += 1;
  }
  double t0 = er_wtime();
  ER_AGREE(s->g->comm); /* whatever failed before this step (the encoder's last kernels) */
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, s->proto, K * d + K, MPI_DOUBLE, MPI_SUM, s->g->comm));
  ER_AGREE(s->g->comm);
  *comm_s += er_wtime() - t0;
  for (int c = 0; c < K; ++c) { /* unit vectors: cos = z . mu / (|z| |mu|) */
    double nrm = 0;
    for (int k = 0; k < d; ++k) {
      double m = cnt[c] > 0 ? s->proto[(size_t)c * d + k] / cnt[c] : 0.0;
      s->proto[(size_t)c * d + k] = m;
      nrm += m * m;
    }
    nrm = sqrt(nrm);
    for (int k = 0; k < d; ++k)
      s->protof[(size_t)c * d + k] = nrm > 0 ? (float)(s->proto[(size_t)c * d + k] / nrm) : 0.f;
  }
  //---- S = |cos(Z_i, mu_c)|, Y = softmax(beta Yden + (1-beta) S) ----
  if (no > 0)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)no, K, d, 1.0f, Z, d, s->protof, d,
                0.0f, s->dots, K);
  for (size_t i = 0; i < no; ++i) {
    const float *z = Z + i * d;
    double zn;
    ER_SUM8(zn, d, k, (double)z[k] * z[k]);
    zn = sqrt(zn);
    double *y = s->Y + i * K, mx = -INFINITY, sum = 0;
    for (int c = 0; c < K; ++c) {
      double cs = zn > 0 ? fabs((double)s->dots[i * K + c]) / zn : 0.0;
      y[c] = s->beta * s->Yden[i * K + c] + (1 - s->beta) * cs;
      mx = fmax(mx, y[c]);
    }
    for (int c = 0; c < K; ++c) sum += (y[c] = exp(y[c] - mx));
    for (int c = 0; c < K; ++c) y[c] /= sum;
  }
  //---- structure: T steps of propagation, then argmax ----
  ER_CALL(er_propagate(s->g, K, s->alpha, s->T, s->Y, s->work)); /* halo waits: er_halo_get_stats */
  for (size_t i = 0; i < no; ++i) L[i] = argmax_d(s->Y + i * K, K);
cleanup:
  return ER_FINISH(s->g->comm);
}

void er_semantic_labels_ref(const er_csr *A, const double *Z, int d, const double *Yden,
                            const uint8_t *is_train, int K, double alpha, double beta, int T,
                            int32_t *L) {
  int64_t n = A->n;
  double *mu = calloc((size_t)K * d, sizeof(double)), *cnt = calloc((size_t)K, sizeof(double));
  double *Y = calloc((size_t)(n * K), sizeof(double));
  if (!mu || !cnt || !Y) goto done;
  for (int64_t i = 0; i < n; ++i)
    if (is_train[i]) {
      int c = argmax_d(Yden + i * K, K);
      for (int k = 0; k < d; ++k) mu[c * d + k] += Z[i * d + k];
      cnt[c] += 1;
    }
  for (int c = 0; c < K; ++c)
    for (int k = 0; k < d; ++k) mu[c * d + k] = cnt[c] > 0 ? mu[c * d + k] / cnt[c] : 0;
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int c = 0; c < K; ++c) {
      double dot = 0, a = 0, b = 0;
      for (int k = 0; k < d; ++k) {
        dot += Z[i * d + k] * mu[c * d + k];
        a += Z[i * d + k] * Z[i * d + k];
        b += mu[c * d + k] * mu[c * d + k];
      }
      double cs = (a > 0 && b > 0) ? fabs(dot) / sqrt(a * b) : 0;
      Y[i * K + c] = exp(beta * Yden[i * K + c] + (1 - beta) * cs);
      sum += Y[i * K + c];
    }
    for (int c = 0; c < K; ++c) Y[i * K + c] /= sum;
  }
  er_propagate_ref(A, K, alpha, T, Y);
  for (int64_t i = 0; i < n; ++i) L[i] = argmax_d(Y + i * K, K);
done:
  free(mu), free(cnt), free(Y);
}
