/* sparse.h: row-sparse input features for the first linear layer. Bag-of-words features
 * (Cora: 1.3% non-zero) make the dense x W mostly multiplications by zero; this keeps the
 * non-zeros in CSR, applies dropout to them only (a zero stays zero whatever the mask), and
 * multiplies sparse x dense. The dense er_linear_* kernels are the reference twins. */
#ifndef ERASE_SPARSE_H
#define ERASE_SPARSE_H

#include "erase/core.h"

typedef struct {
  int64_t n, F, nnz;
  int64_t *indptr; /* (n+1) */
  int32_t *col;    /* (nnz) */
  float *val;      /* (nnz) */
} er_spmat;

/* Build from a dense row-major (n, F) matrix, keeping non-zeros. */
er_err er_spmat_from_dense(er_spmat *s, const float *x, int64_t n, int64_t F);
void er_spmat_free(er_spmat *s);
/* Bytes of a matrix of n rows and nz stored entries (its buffer table, erase/mem.h). */
double er_spmat_bytes(int64_t n, int64_t nz);
/* Fraction of non-zero entries of a dense matrix. */
double er_dense_density(const float *x, int64_t n, int64_t F);

/* Dropout on the stored entries with the same mask as er_dropout_forward_f on the dense
 * matrix: out->val = in->val * mask / (1-p). out has in's pattern (allocated by the caller via
 * er_spmat_from_dense or a copy). */
er_err er_spmat_dropout(er_spmat *out, const er_spmat *in, uint64_t seed, int64_t step,
                        const int64_t *gid, double p);
/* h (n, fout) = x W, W (F, fout). */
void er_spmm_forward(float *h, const er_spmat *x, const float *W, int64_t fout);
/* dW (F, fout) += x^T dh. */
void er_spmm_backward_w(float *dW, const er_spmat *x, const float *dh, int64_t fout);

#endif
