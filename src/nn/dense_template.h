/* dense_template.h: per-row and elementwise kernels (linear via BLAS, LeakyReLU/ReLU, row L1
 * normalization, dropout, Glorot init, feature normalization), written once for REAL. No graph
 * kernels here. Included by nn_float.c and nn_double.c, which define REAL, ER_GEMM
 * (cblas_sgemm/dgemm) and, for every public function below, NAME_T as the name in nn.h. */
#ifndef REAL
#error "dense_template.h is included by nn_float.c / nn_double.c only"
#endif
/* An unmapped NAME_T would be defined under that name, without the prototype from nn.h. */
#pragma GCC diagnostic error "-Wmissing-prototypes"

/* ------------------------------------------------------------------------------------------ */
/* Linear transform                                                                           */

static er_err linear_check_sizes(int64_t n, int64_t fin, int64_t fout) {
  er_err err = ER_OK;
  ER_CHECK(n >= 0 && fin >= 0 && fout >= 0, ER_ERR_INPUT,
           "linear: negative size (n %" PRId64 ", fin %" PRId64 ", fout %" PRId64 ")", n, fin,
           fout);
  ER_CHECK(n <= INT_MAX && fin <= INT_MAX && fout <= INT_MAX, ER_ERR_INPUT,
           "linear: size beyond the BLAS integer range (n %" PRId64 ", fin %" PRId64
           ", fout %" PRId64 ")",
           n, fin, fout);
cleanup:
  return err;
}

er_err er_linear_forward_T(REAL *h, const REAL *x, const REAL *W, int64_t n, int64_t fin,
                           int64_t fout) {
  er_err err = ER_OK;
  ER_CALL(linear_check_sizes(n, fin, fout));
  if (n == 0 || fout == 0) goto cleanup;
  if (fin == 0) { /* empty product; BLAS would reject lda = 0 */
    memset(h, 0, (size_t)n * (size_t)fout * sizeof(REAL));
    goto cleanup;
  }
  ER_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)fout, (int)fin, (REAL)1, x,
          (int)fin, W, (int)fout, (REAL)0, h, (int)fout);
cleanup:
  return err;
}

er_err er_linear_backward_T(REAL *dx, REAL *dW, const REAL *dh, const REAL *x, const REAL *W,
                            int64_t n, int64_t fin, int64_t fout) {
  er_err err = ER_OK;
  ER_CALL(linear_check_sizes(n, fin, fout));
  if (n == 0 || fin == 0 || fout == 0) goto cleanup;
  /* dW (fin, fout) += x^T (fin, n) dh (n, fout) */
  ER_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)fin, (int)fout, (int)n, (REAL)1, x,
          (int)fin, dh, (int)fout, (REAL)1, dW, (int)fout);
  /* dx (n, fin) += dh (n, fout) W^T (fout, fin) */
  if (dx)
    ER_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)fin, (int)fout, (REAL)1, dh,
            (int)fout, W, (int)fout, (REAL)1, dx, (int)fin);
cleanup:
  return err;
}

void er_linear_forward_ref_T(REAL *h, const REAL *x, const REAL *W, int64_t n, int64_t fin,
                             int64_t fout) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t o = 0; o < fout; o++) {
      double s = 0;
      for (int64_t f = 0; f < fin; f++) s += (double)x[i * fin + f] * W[f * fout + o];
      h[i * fout + o] = (REAL)s;
    }
}

void er_linear_backward_ref_T(REAL *dx, REAL *dW, const REAL *dh, const REAL *x, const REAL *W,
                              int64_t n, int64_t fin, int64_t fout) {
  for (int64_t f = 0; f < fin; f++)
    for (int64_t o = 0; o < fout; o++) {
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += (double)x[i * fin + f] * dh[i * fout + o];
      dW[f * fout + o] += (REAL)s;
    }
  if (!dx) return;
  for (int64_t i = 0; i < n; i++)
    for (int64_t f = 0; f < fin; f++) {
      double s = 0;
      for (int64_t o = 0; o < fout; o++) s += (double)dh[i * fout + o] * W[f * fout + o];
      dx[i * fin + f] += (REAL)s;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* LeakyReLU / ReLU                                                                           */

void er_leakyrelu_forward_T(REAL *y, const REAL *x, REAL slope, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

void er_leakyrelu_backward_T(REAL *dx, const REAL *dy, const REAL *x, REAL slope, int64_t n) {
  for (int64_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : slope * dy[i];
}

void er_relu_forward_T(REAL *y, const REAL *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (REAL)0;
}

void er_relu_backward_T(REAL *dx, const REAL *dy, const REAL *x, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (x[i] > 0) dx[i] += dy[i];
}

/* ------------------------------------------------------------------------------------------ */
/* Row L1 normalization                                                                       */

void er_l1norm_forward_T(REAL *y, REAL *norm, const REAL *x, int64_t n, int64_t F) {
  for (int64_t i = 0; i < n; i++) {
    const REAL *xi = x + i * F;
    REAL *yi = y + i * F;
    double s;
    ER_SUM8(s, F, f, fabs((double)xi[f]));
    norm[i] = (REAL)s;
    REAL inv = (REAL)(1.0 / (s >= ER_L1_EPS ? s : ER_L1_EPS)); /* same test as backward */
    for (int64_t f = 0; f < F; f++) yi[f] = xi[f] * inv;
  }
}

void er_l1norm_backward_T(REAL *dx, const REAL *dy, const REAL *y, const REAL *norm, int64_t n,
                          int64_t F) {
  for (int64_t i = 0; i < n; i++) {
    const REAL *dyi = dy + i * F, *yi = y + i * F;
    REAL *dxi = dx + i * F;
    if (!((double)norm[i] >= ER_L1_EPS)) { /* clamped: s is the constant eps */
      REAL inv = (REAL)(1.0 / ER_L1_EPS);
      for (int64_t f = 0; f < F; f++) dxi[f] += dyi[f] * inv;
      continue;
    }
    double d;
    ER_SUM8(d, F, f, (double)dyi[f] * yi[f]);
    REAL inv = (REAL)(1.0 / (double)norm[i]), dr = (REAL)d;
    for (int64_t f = 0; f < F; f++) {
      REAL sg = yi[f] > 0 ? (REAL)1 : (yi[f] < 0 ? (REAL)-1 : (REAL)0);
      dxi[f] += (dyi[f] - sg * dr) * inv;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Dropout                                                                                    */

static er_err dropout_check(const int64_t *gid, int64_t step, double p, int64_t n, int64_t F) {
  er_err err = ER_OK;
  ER_CHECK(p >= 0.0 && p < 1.0, ER_ERR_INPUT, "dropout probability %g is outside [0, 1)", p);
  ER_CHECK(step >= 0, ER_ERR_INPUT, "dropout step %" PRId64 " is negative", step);
  ER_CHECK(n >= 0 && F >= 0, ER_ERR_INPUT, "dropout: negative size");
  ER_CHECK(n == 0 || gid != NULL, ER_ERR_INPUT, "dropout: gid is NULL");
cleanup:
  return err;
}

/* Row i's mask by blocks of four features, one Philox call per block (rng.h's definition). */
static inline void dropout_apply_row(REAL *y, const REAL *x, uint64_t seed, int64_t step,
                                     int64_t gid, uint32_t thr, REAL scale, int64_t F,
                                     int accumulate) {
  for (int64_t f0 = 0; f0 < F; f0 += 4) {
    uint32_t w[4];
    er_rng_u32x4(seed, ER_STREAM_DROPOUT, (uint64_t)gid, er_dropout_block(step, F, f0), w);
    for (int64_t j = 0; j < 4 && f0 + j < F; j++) {
      REAL v = w[j] >= thr ? x[f0 + j] * scale : (REAL)0;
      if (accumulate)
        y[f0 + j] += v;
      else
        y[f0 + j] = v;
    }
  }
}

/* y = mask(x) (accumulate 0) or y += mask(x) (accumulate 1), row by row: forward and backward
 * are the same masked, scaled copy. */
static er_err dropout_rows(REAL *y, const REAL *x, uint64_t seed, int64_t step, const int64_t *gid,
                           double p, int64_t n, int64_t F, int accumulate) {
  er_err err = ER_OK;
  ER_CALL(dropout_check(gid, step, p, n, F));
  REAL scale = (REAL)(1.0 / (1.0 - p));
  for (int64_t i = 0; i < n; i++)
    dropout_apply_row(y + i * F, x + i * F, seed, step, gid[i], er_dropout_threshold(p), scale,
                      F, accumulate);
cleanup:
  return err;
}

er_err er_dropout_forward_T(REAL *y, const REAL *x, uint64_t seed, int64_t step, const int64_t *gid,
                            double p, int64_t n, int64_t F) {
  return dropout_rows(y, x, seed, step, gid, p, n, F, 0);
}

er_err er_dropout_backward_T(REAL *dx, const REAL *dy, uint64_t seed, int64_t step,
                             const int64_t *gid, double p, int64_t n, int64_t F) {
  return dropout_rows(dx, dy, seed, step, gid, p, n, F, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Glorot-uniform init                                                                        */

void er_glorot_init_T(REAL *w, uint64_t seed, uint64_t tensor_id, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  double bound = sqrt(6.0 / (double)(rows + cols));
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) {
      double u = er_rng_uniform(seed, ER_STREAM_INIT, tensor_id, (uint64_t)(r * cols + c));
      w[r * cols + c] = (REAL)((2.0 * u - 1.0) * bound);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Input feature normalization                                                                */

double er_features_min_T(const REAL *x, int64_t n, int64_t F) {
  double m = INFINITY;
  for (int64_t e = 0; e < n * F; e++)
    if (x[e] < m) m = x[e];
  return m;
}

void er_normalize_features_T(REAL *y, const REAL *x, double gmin, int64_t n, int64_t F) {
  for (int64_t i = 0; i < n; i++) {
    const REAL *xi = x + i * F;
    REAL *yi = y + i * F;
    double s = 0;
    for (int64_t f = 0; f < F; f++) s += (double)xi[f] - gmin;
    double inv = 1.0 / (s > 1.0 ? s : 1.0);
    for (int64_t f = 0; f < F; f++) yi[f] = (REAL)(((double)xi[f] - gmin) * inv);
  }
}
