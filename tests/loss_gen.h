/* loss_gen.h: deterministic test inputs for the MCR² loss tests: the global Z (N, d) and labels
 * drawn from (seed, global row), so every rank can build the same matrix and take its block. */
#ifndef ER_LOSS_GEN_H
#define ER_LOSS_GEN_H

#include <math.h>
#include <stdint.h>

#include "erase/rng.h"

#define ER_LOSS_TEST_STREAM 901u

/* Encoder-like rows: class-dependent mean + noise, ReLU, row L1 normalization (as Z in
 * ERASE.md section 3). Labels: i % n_present (classes >= n_present stay empty).
 * Fills global rows [row0, row0 + n) into Z (n, d) and L (n). */
static inline void er_loss_gen_rows(uint64_t seed, int64_t row0, int64_t n, int d, int n_present,
                                    double *Z, int32_t *L) {
  for (int64_t r = 0; r < n; r++) {
    int64_t i = row0 + r;
    L[r] = (int32_t)(i % n_present);
    double s = 0.0;
    for (int c = 0; c < d; c++) {
      double mean = er_rng_normal(seed, ER_LOSS_TEST_STREAM, (uint64_t)L[r] + 1000000000u, (uint64_t)c);
      double v = mean + 0.7 * er_rng_normal(seed, ER_LOSS_TEST_STREAM, (uint64_t)i, (uint64_t)c);
      v = v > 0.0 ? v : 0.0;
      Z[r * d + c] = v;
      s += v;
    }
    if (s < 1e-12) s = 1e-12;
    for (int c = 0; c < d; c++) Z[r * d + c] /= s;
  }
}

static inline void er_loss_gen(uint64_t seed, int64_t N, int d, int n_present, double *Z,
                               int32_t *L) {
  er_loss_gen_rows(seed, 0, N, d, n_present, Z, L);
}

/* max |a - b| / max |b| over n entries */
static inline double er_loss_relerr(const double *a, const double *b, int64_t n) {
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs(a[i] - b[i]);
    if (e > num || isnan(e)) num = e;
    if (fabs(b[i]) > den) den = fabs(b[i]);
  }
  return den > 0.0 ? num / den : num;
}

static inline double er_loss_rel(double a, double b) {
  return fabs(a - b) / (fabs(b) > 1e-300 ? fabs(b) : 1.0);
}

#endif
