/* sparse.c: CSR input features: build, dropout on stored entries, sparse x dense products for
 * the first layer's forward and weight gradient. Single-threaded; rows are independent. */
#include "erase/sparse.h"

#include <stdlib.h>
#include <string.h>

#include "erase/mem.h"
#include "erase/rng.h"

/* The matrix's buffer table (erase/mem.h): (lvalue, elements, type, flags), n rows, nz stored
 * entries. */
#define SPMAT_BUFFERS(X)                                                                     \
  X(s->indptr, n + 1, int64_t, 0)                                                            \
  X(s->col, nz, int32_t, 0)                                                                  \
  X(s->val, nz, float, 0)

double er_spmat_bytes(int64_t n, int64_t nz) { return 0 SPMAT_BUFFERS(ER_BUF_BYTES); }

double er_dense_density(const float *x, int64_t n, int64_t F) {
  int64_t nz = 0;
  for (int64_t k = 0; k < n * F; ++k) nz += x[k] != 0.0f;
  return n * F > 0 ? (double)nz / (double)(n * F) : 0.0;
}

er_err er_spmat_from_dense(er_spmat *s, const float *x, int64_t n, int64_t F) {
  er_err err = ER_OK;
  memset(s, 0, sizeof *s);
  int64_t nz = 0;
  for (int64_t k = 0; k < n * F; ++k) nz += x[k] != 0.0f;
  s->n = n, s->F = F, s->nnz = nz;
  SPMAT_BUFFERS(ER_BUF_ALLOC)
  int64_t e = 0;
  s->indptr[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t f = 0; f < F; ++f)
      if (x[i * F + f] != 0.0f) {
        s->col[e] = (int32_t)f;
        s->val[e++] = x[i * F + f];
      }
    s->indptr[i + 1] = e;
  }
  return ER_OK;
cleanup:
  er_spmat_free(s);
  return err;
}

void er_spmat_free(er_spmat *s) {
  SPMAT_BUFFERS(ER_BUF_FREE)
  memset(s, 0, sizeof *s);
}

er_err er_spmat_dropout(er_spmat *out, const er_spmat *in, uint64_t seed, int64_t step,
                        const int64_t *gid, double p) {
  if (p < 0 || p >= 1) return ER_ERROR(ER_ERR_INPUT, "dropout p=%g outside [0, 1)", p);
  const float scale = (float)(1.0 / (1.0 - p));
  const uint32_t thr = er_dropout_threshold(p);
  for (int64_t i = 0; i < in->n; ++i) {
    uint32_t w[4];
    int64_t blk = -1; /* columns are sorted: one Philox block serves up to four entries */
    for (int64_t e = in->indptr[i]; e < in->indptr[i + 1]; ++e) {
      /* the dense kernel's mask (rng.h): word f % 4 of block (gid, er_dropout_block(step, F, f)) */
      int64_t f = in->col[e];
      if (f / 4 != blk) {
        blk = f / 4;
        er_rng_u32x4(seed, ER_STREAM_DROPOUT, (uint64_t)gid[i], er_dropout_block(step, in->F, f),
                     w);
      }
      out->val[e] = w[f % 4] >= thr ? in->val[e] * scale : 0.0f;
    }
  }
  return ER_OK;
}

void er_spmm_forward(float *h, const er_spmat *x, const float *W, int64_t fout) {
  for (int64_t i = 0; i < x->n; ++i) {
    float *hi = h + i * fout;
    memset(hi, 0, (size_t)fout * sizeof(float));
    for (int64_t e = x->indptr[i]; e < x->indptr[i + 1]; ++e) {
      const float v = x->val[e], *w = W + (int64_t)x->col[e] * fout;
      if (v == 0.0f) continue;
      for (int64_t c = 0; c < fout; ++c) hi[c] += v * w[c];
    }
  }
}

void er_spmm_backward_w(float *dW, const er_spmat *x, const float *dh, int64_t fout) {
  for (int64_t i = 0; i < x->n; ++i) {
    const float *d = dh + i * fout;
    for (int64_t e = x->indptr[i]; e < x->indptr[i + 1]; ++e) {
      const float v = x->val[e];
      if (v == 0.0f) continue;
      float *w = dW + (int64_t)x->col[e] * fout;
      for (int64_t c = 0; c < fout; ++c) w[c] += v * d[c];
    }
  }
}
