/* encoder_f.c: float instantiation of encoder_template.h (training). */
#include <stdlib.h>
#include <string.h>

#include "../nn/nn_private.h"
#include "erase/encoder.h"
#include "erase/sparse.h"

/* below this input density the first layer runs sparse x dense (bag-of-words features) */
#define ER_SPARSE_INPUT_DENSITY 0.25
#define REAL float
#define ER_NN_SUFFIX f
#define ER_MPI_REAL MPI_FLOAT
#define ER_ENC_SPARSE 1
#include "encoder_template.h"

void er_encoder_input_f(const er_encoder_f *e, float *x) {
  int64_t F = e->L.F;
  if (!e->sparse) {
    memcpy(x, e->xin, (size_t)(e->n_own * F) * sizeof(float));
    return;
  }
  memset(x, 0, (size_t)(e->n_own * F) * sizeof(float));
  for (int64_t i = 0; i < e->n_own; ++i)
    for (int64_t k = e->xsin->indptr[i]; k < e->xsin->indptr[i + 1]; ++k)
      x[i * F + e->xsin->col[k]] = e->xsin->val[k];
}
