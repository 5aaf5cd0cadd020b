/* floor.c: `train --floor`: what an epoch would take if it ran at the machine's own rates, measured
 * in the same run, right before the first and right after the last timed epoch: the sgemm rate on
 * the epoch's own matrix shapes, and the rate of the GAT passes' random row gathers on this rank's
 * own graph (its CSR, its row width). The floor is the epoch's GEMM flops at the first rate plus
 * its gathered bytes at the second, on the slowest rank. It changes nothing in training. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "train_private.h"

#define FLOOR_ROWS 16384 /* rows of the timed GEMMs (the rate is flat beyond a few thousand) */
#define FLOOR_REPS 3

/* Buffer table (erase/mem.h): (lvalue, elements, type, flags): GEMM operands of m rows (at most
 * FLOOR_ROWS) by wide = max(F, hidden, embed) columns, the gather's source over n_tot rows of
 * H = hidden, its accumulator, and three d x d double matrices. */
#define FLOOR_BUFFERS(X)                                                                     \
  X(a, m * wide, float, 0)                                                                   \
  X(b, wide * wide, float, 0)                                                                \
  X(c, m * wide, float, 0)                                                                   \
  X(x, n_tot * H, float, 0)                                                                  \
  X(acc, H, float, 0)                                                                        \
  X(dd, 3 * d * d, double, 0)

static int64_t max3(int64_t p, int64_t q, int64_t r) {
  return p > q ? (p > r ? p : r) : (q > r ? q : r);
}

double er_floor_bytes(const er_mem_counts *cn) {
  const int64_t m = cn->n < FLOOR_ROWS ? cn->n : FLOOR_ROWS, H = cn->hidden, d = cn->embed;
  const int64_t wide = max3(cn->F, H, d), n_tot = cn->n + cn->g;
  return 0 FLOOR_BUFFERS(ER_BUF_BYTES);
}

static double best_of(double a, double b) { return a < b ? a : b; }

/* Seconds of C (m x n) = A (m x k) B (k x n), best of FLOOR_REPS. */
static double time_gemm(float *a, float *b, float *c, int m, int k, int n) {
  double best = 1e30;
  for (int r = 0; r < FLOOR_REPS; ++r) {
    double t0 = er_wtime();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    best = best_of(best, er_wtime() - t0);
  }
  return best;
}

/* Seconds of a double d x d x d product, best of FLOOR_REPS (the MCR2 factorizations' rate). */
static double time_dgemm(int d, double *a, double *b, double *c) {
  double best = 1e30;
  for (int r = 0; r < FLOOR_REPS; ++r) {
    double t0 = er_wtime();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, a, d, b, d, 0.0, c, d);
    best = best_of(best, er_wtime() - t0);
  }
  return best;
}

/* Seconds of one pass summing, for every owned row, its neighbours' and its own rows of x
 * (n_tot, w): the access pattern of a GAT aggregation, with the kernels' software prefetch. */
static double time_gather(const er_dgraph *g, const float *x, int w, float *acc) {
  double best = 1e30;
  for (int r = 0; r < FLOOR_REPS; ++r) {
    double t0 = er_wtime();
    for (er_lidx i = 0; i < g->n_own; ++i) {
      memcpy(acc, x + (size_t)i * w, (size_t)w * sizeof *acc);
      for (int64_t e = g->indptr[i]; e < g->indptr[i + 1]; ++e) {
        if (e + 2 < g->indptr[i + 1])
          for (int c = 0; c < w; c += 16) __builtin_prefetch(x + (size_t)g->indices[e + 2] * w + c);
        const float *y = x + (size_t)g->indices[e] * w;
        for (int c = 0; c < w; ++c) acc[c] += y[c];
      }
    }
    best = best_of(best, er_wtime() - t0);
  }
  return best;
}

er_err er_floor_measure(er_trainer *t, er_floor *f) {
  er_err err = ER_OK;
  const er_dgraph *g = t->g;
  const er_encoder_layout *lay = er_encoder_layout_f(t->enc);
  int F = (int)lay->F, H = (int)lay->hidden, d = t->d;
  int m = g->n_own < FLOOR_ROWS ? (int)g->n_own : FLOOR_ROWS;
  const int64_t wide = max3(F, H, d); /* the largest of F, H, d */
  size_t n_tot = (size_t)g->n_own + g->n_ghost;
  float *a = NULL, *b = NULL, *c = NULL, *x = NULL, *acc = NULL;
  double *dd = NULL;
  FLOOR_BUFFERS(ER_BUF_ALLOC)
  for (size_t k = 0; k < (size_t)m * wide; ++k) a[k] = (float)(k % 7) * 0.1f;
  for (size_t k = 0; k < (size_t)wide * wide; ++k) b[k] = (float)(k % 5) * 0.1f;
  for (size_t k = 0; k < n_tot * H; ++k) x[k] = (float)(k % 3);
  /* the epoch's products: layer 1's x W1 and dW1 (2 n F H flops each; with sparse input,
   * 2 nnz(x) H each), layer 2's u2 W2, dW2, du2 (2 n H d each), the MCR2 Grams and gradient
   * (3 n d^2); the evaluation forward runs on the labelled rows' neighbourhood and is left out.
   * Each product is timed at its own shape. */
  double n = (double)g->n_own, nnz_x = (double)er_encoder_input_nnz_f(t->enc);
  double t_l1 = time_gemm(a, b, c, m, F, H), t_l2 = time_gemm(a, b, c, m, H, d);
  double t_mc = time_gemm(a, b, c, m, d, d);
  double l1_rows = nnz_x >= 0 ? nnz_x / F : n; /* a sparse input counts as nnz / F dense rows */
  f->sgemm_gfs = 2.0 * m * ((double)F * H + (double)H * d + (double)d * d) /
                 (t_l1 + t_l2 + t_mc) / 1e9;
  f->gemm_s = 2.0 * t_l1 / m * l1_rows + 3.0 * t_l2 / m * n + 1.5 * t_mc / m * n;
  /* the K+1 Cholesky factorizations and inverses of d x d matrices: d^3 flops each, half of a
   * d x d x d product's, in double */
  for (size_t k = 0; k < 3 * (size_t)d * d; ++k) dd[k] = (double)(k % 3) * 0.1;
  f->gemm_s += 0.5 * (t->K + 1) * time_dgemm(d, dd, dd + (size_t)d * d, dd + 2 * (size_t)d * d);
  /* two passes (the forward aggregation, the backward gather) of one hidden-wide row per edge
   * and self loop, in each of the two layers (layer 2 aggregates its hidden-wide input) */
  double rows = (double)g->indptr[g->n_own] + n;
  double t_g = time_gather(g, x, H, acc);
  f->gather_gbs = rows * H * sizeof(float) / t_g / 1e9;
  f->gather_s = 4.0 * t_g;
  f->floor_s = f->gemm_s + f->gather_s;
  ER_AGREE(t->comm);
  /* the epoch waits for the slowest rank: its floor is the floor; its rates and its products
   * and gathers (which sum to it) are reported */
  double mine[2] = {f->floor_s, (double)t->rank}, slowest[2];
  ER_CALL_MPI(MPI_Allreduce(mine, slowest, 1, MPI_2DOUBLE_PRECISION, MPI_MAXLOC, t->comm));
  double its[4] = {f->sgemm_gfs, f->gather_gbs, f->gemm_s, f->gather_s};
  ER_CALL_MPI(MPI_Bcast(its, 4, MPI_DOUBLE, (int)slowest[1], t->comm));
  f->floor_s = slowest[0], f->sgemm_gfs = its[0], f->gather_gbs = its[1];
  f->gemm_s = its[2], f->gather_s = its[3];
cleanup:
  err = ER_FINISH(t->comm);
  FLOOR_BUFFERS(ER_BUF_FREE)
  return err;
}
