/* prop.c: distributed label propagation (ERASE.md section 2 denoising, both variants, and the
 * per-epoch semantic propagation of section 4) over the halo, with serial references.
 * Each step scales owner rows, starts the forward halo, sums interior rows while messages fly,
 * then boundary rows. It does not build Y_den's prototypes or softmax: see the trainer. */
#include "erase/prop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Neighbour rows are random reads the hardware cannot predict: each is prefetched PROP_PF_DIST
 * neighbours ahead of its use, running on into the next row's list. */
#define PROP_PF_DIST 8

static inline void prefetch_row(const double *ys, er_lidx j, int K) {
  const char *p = (const char *)(ys + (size_t)j * K);
  for (size_t o = 0; o < (size_t)K * sizeof(double); o += 64) __builtin_prefetch(p + o, 0, 3);
}

/* out_i = sum_{j in N(i)} ys_j for rows in order[a, b) */
static void spmm_rows(const er_dgraph *g, const double *ys, int K, const er_lidx *order,
                      er_lidx a, er_lidx b, double *out) {
  const int64_t *ip = g->indptr;
  for (er_lidx t = a; t < b; ++t) {
    const er_lidx i = order[t], nx = t + 1 < b ? order[t + 1] : i;
    const int64_t end = ip[i + 1];
    double *o = out + (size_t)i * K;
    for (int c = 0; c < K; ++c) o[c] = 0.0;
    for (int64_t e = ip[i]; e < end; ++e) {
      const int64_t q = e + PROP_PF_DIST, qn = ip[nx] + (q - end);
      if (q < end) prefetch_row(ys, g->indices[q], K);
      else if (nx != i && qn < ip[nx + 1]) prefetch_row(ys, g->indices[qn], K);
      const double *y = ys + (size_t)g->indices[e] * K;
      for (int c = 0; c < K; ++c) o[c] += y[c];
    }
  }
}

/* out = A ys with ys's ghost rows brought in by the halo; interior rows overlap messages. */
static er_err spmm_halo(er_dgraph *g, double *ys, int K, double *out) {
  er_err err = ER_OK;
  ER_CALL(er_halo_forward_begin(g->halo, ys, K, MPI_DOUBLE));
  spmm_rows(g, ys, K, g->row_order, 0, g->n_interior, out);
  ER_CALL(er_halo_forward_end(g->halo));
  spmm_rows(g, ys, K, g->row_order, g->n_interior, g->n_own, out);
cleanup:
  return err;
}

static const char *const denoise_names[] = {"train-subgraph", "global"};
const er_enum_names er_denoise_variants = ER_ENUM_NAMES(denoise_names);

/* er_denoise's buffer table (erase/mem.h): (lvalue, elements, type, flags) over n_tot rows with
 * ghosts and K classes. */
#define DENOISE_BUFFERS(X)                                                                   \
  X(ys, n_tot * K, double, 0)                                                                \
  X(py, n_tot * K, double, ER_BUF_ZERO)                                                      \
  X(y0, n_tot * K, double, ER_BUF_ZERO)                                                      \
  X(scale, n_tot, double, ER_BUF_ZERO)

double er_denoise_bytes(const er_mem_counts *c) {
  const double n_tot = (double)(c->n + c->g), K = (double)c->K;
  return 0 DENOISE_BUFFERS(ER_BUF_BYTES);
}

er_err er_denoise(er_dgraph *g, const int32_t *noisy, int K, er_denoise_variant variant,
                  double alpha, int T, double *Y) {
  er_err err = ER_OK;
  size_t n_tot = (size_t)g->n_own + (size_t)g->n_ghost;
  double *ys = NULL, *py = NULL, *y0 = NULL, *scale = NULL;
  DENOISE_BUFFERS(ER_BUF_ALLOC)
  ER_AGREE(g->comm); /* the exchanges below are collective */
  memset(Y, 0, n_tot * K * sizeof(double));
  for (er_lidx i = 0; i < g->n_own; ++i)
    if ((g->split[i] & ER_SPLIT_TRAIN) && noisy[i] >= 0 && noisy[i] < K)
      y0[(size_t)i * K + noisy[i]] = 1.0;
  if (variant == ER_DENOISE_TRAIN_SUBGRAPH) {
    /* deg1(j): training neighbours of training node j; needs the ghosts' train flags */
    double *flag = ys; /* (n_tot, 1) scratch */
    for (er_lidx i = 0; i < g->n_own; ++i) flag[i] = (g->split[i] & ER_SPLIT_TRAIN) ? 1.0 : 0.0;
    ER_CALL(er_halo_forward_begin(g->halo, flag, 1, MPI_DOUBLE));
    ER_CALL(er_halo_forward_end(g->halo));
    for (er_lidx i = 0; i < g->n_own; ++i) {
      if (!(g->split[i] & ER_SPLIT_TRAIN)) continue;
      double d1 = 0;
      for (int64_t e = g->indptr[i]; e < g->indptr[i + 1]; ++e) d1 += flag[g->indices[e]];
      scale[i] = d1 > 0 ? 1.0 / d1 : 0.0;
    }
  } else {
    for (er_lidx i = 0; i < g->n_own; ++i) {
      int64_t d = g->indptr[i + 1] - g->indptr[i];
      scale[i] = d > 0 ? 1.0 / sqrt((double)d) : 0.0;
    }
  }
  memcpy(Y, y0, (size_t)g->n_own * K * sizeof(double));
  for (int it = 0; it < T; ++it) {
    for (size_t i = 0; i < (size_t)g->n_own; ++i)
      for (int c = 0; c < K; ++c) ys[i * K + c] = scale[i] * Y[i * K + c];
    ER_CALL(spmm_halo(g, ys, K, py));
    for (size_t i = 0; i < (size_t)g->n_own; ++i) {
      double *y = Y + i * K;
      const double *p = py + i * K, *z = y0 + i * K;
      if (variant == ER_DENOISE_TRAIN_SUBGRAPH) {
        if (!(g->split[i] & ER_SPLIT_TRAIN)) continue;
        for (int c = 0; c < K; ++c) y[c] = (1.0 - alpha) * p[c] + alpha * y[c];
      } else {
        for (int c = 0; c < K; ++c) {
          double v = alpha * scale[i] * p[c] + (1.0 - alpha) * z[c];
          y[c] = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
        }
      }
    }
  }
cleanup:
  err = ER_FINISH(g->comm);
  DENOISE_BUFFERS(ER_BUF_FREE)
  return err;
}

er_err er_propagate(er_dgraph *g, int K, double alpha, int T, double *Y, double *work) {
  er_err err = ER_OK;
  size_t n_own = (size_t)g->n_own;
  double *py = work + ((size_t)g->n_own + (size_t)g->n_ghost) * K; /* (n_own, K) after ys */
  for (int it = 0; it < T; ++it) {
    for (size_t i = 0; i < n_own; ++i) {
      int64_t d = g->indptr[i + 1] - g->indptr[i];
      double s = d > 0 ? 1.0 / (double)d : 0.0;
      for (int c = 0; c < K; ++c) work[i * K + c] = s * Y[i * K + c];
    }
    ER_CALL(spmm_halo(g, work, K, py));
    for (size_t i = 0; i < n_own * K; ++i) Y[i] = (1.0 - alpha) * py[i] + alpha * Y[i];
  }
cleanup:
  return ER_FINISH(g->comm);
}

//---- serial references: literal formulas over the whole graph ----------------------------------

void er_denoise_ref(const er_csr *A, const uint8_t *is_train, const int32_t *noisy, int K,
                    er_denoise_variant variant, double alpha, int T, double *Y) {
  int64_t n = A->n;
  double *y0 = calloc((size_t)(n * K), sizeof(double));
  double *nx = calloc((size_t)(n * K), sizeof(double));
  double *deg = calloc((size_t)n, sizeof(double));
  if (!y0 || !nx || !deg) goto done;
  for (int64_t i = 0; i < n; ++i)
    if (is_train[i] && noisy[i] >= 0) y0[i * K + noisy[i]] = 1.0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t e = A->indptr[j]; e < A->indptr[j + 1]; ++e)
      deg[j] += variant == ER_DENOISE_GLOBAL ? 1.0 : (is_train[j] && is_train[A->indices[e]]);
  memcpy(Y, y0, (size_t)(n * K) * sizeof(double));
  for (int it = 0; it < T; ++it) {
    for (int64_t i = 0; i < n; ++i)
      for (int c = 0; c < K; ++c) {
        double s = 0;
        for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; ++e) {
          int64_t j = A->indices[e];
          if (variant == ER_DENOISE_GLOBAL)
            s += Y[j * K + c] / sqrt(deg[i] * deg[j]);
          else if (is_train[i] && is_train[j])
            s += Y[j * K + c] / deg[j];
        }
        if (variant == ER_DENOISE_GLOBAL) {
          double v = alpha * s + (1 - alpha) * y0[i * K + c];
          nx[i * K + c] = v < 0 ? 0 : (v > 1 ? 1 : v);
        } else {
          nx[i * K + c] = is_train[i] ? (1 - alpha) * s + alpha * Y[i * K + c] : 0.0;
        }
      }
    memcpy(Y, nx, (size_t)(n * K) * sizeof(double));
  }
done:
  free(y0);
  free(nx);
  free(deg);
}

void er_propagate_ref(const er_csr *A, int K, double alpha, int T, double *Y) {
  int64_t n = A->n;
  double *nx = calloc((size_t)(n * K), sizeof(double));
  if (!nx) return;
  for (int it = 0; it < T; ++it) {
    for (int64_t i = 0; i < n; ++i)
      for (int c = 0; c < K; ++c) {
        double s = 0;
        for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; ++e) {
          int64_t j = A->indices[e];
          s += Y[j * K + c] / (double)(A->indptr[j + 1] - A->indptr[j]);
        }
        nx[i * K + c] = (1 - alpha) * s + alpha * Y[i * K + c];
      }
    memcpy(Y, nx, (size_t)(n * K) * sizeof(double));
  }
  free(nx);
}
