/* encoder_f.c: the float encoder of encoder.h (training): its _f functions, by instantiating
 * encoder_template.h for float with a sparse x dense first layer for sparse input features,
 * and er_encoder_input_f. The encoder itself is written once, in the template. */
#include <stdlib.h>
#include <string.h>

#include "erase/encoder.h"
#include "erase/nn.h"
#include "erase/sparse.h"

/* below this input density the first layer runs sparse x dense (bag-of-words features) */
#define ER_SPARSE_INPUT_DENSITY 0.25
#define REAL float
#define ER_MPI_REAL MPI_FLOAT
#define ER_ENC_BF16 1 /* bf16 gathers (er_gat_*_bf16) */
#define ER_ENC_SPARSE 1

/* The template defines NAME_T; each NAME_T is the float name declared in encoder.h. */
#define er_encoder_T                  er_encoder_f
#define er_encoder_create_T           er_encoder_create_f
#define er_encoder_destroy_T          er_encoder_destroy_f
#define er_encoder_layout_T           er_encoder_layout_f
#define er_encoder_params_T           er_encoder_params_f
#define er_encoder_grads_T            er_encoder_grads_f
#define er_encoder_dz_buffer_T        er_encoder_dz_buffer_f
#define er_encoder_zero_grads_T       er_encoder_zero_grads_f
#define er_encoder_init_T             er_encoder_init_f
#define er_encoder_forward_T          er_encoder_forward_f
#define er_encoder_eval_rows_T        er_encoder_eval_rows_f
#define er_encoder_release_backward_T er_encoder_release_backward_f
#define er_encoder_backward_T         er_encoder_backward_f
#define er_encoder_mem_T              er_encoder_mem_f

/* The nn.h kernels the template calls as NAME_T. */
#define er_gat_cache_T                er_gat_cache_f
#define er_gat_cache_create_T         er_gat_cache_create_f
#define er_gat_cache_destroy_T        er_gat_cache_destroy_f
#define er_gat_cache_bytes_T          er_gat_cache_bytes_f
#define er_gat_scores_T               er_gat_scores_f
#define er_gat_aggregate_T            er_gat_aggregate_f
#define er_gat_backward_gather_T      er_gat_backward_gather_f
#define er_gat_backward_rows_T        er_gat_backward_rows_f
#define er_gat_backward_sources_T     er_gat_backward_sources_f
#define er_linear_forward_T           er_linear_forward_f
#define er_linear_backward_T          er_linear_backward_f
#define er_dropout_forward_T          er_dropout_forward_f
#define er_leakyrelu_forward_T        er_leakyrelu_forward_f
#define er_l1norm_forward_T           er_l1norm_forward_f
#define er_relu_forward_T             er_relu_forward_f
#define er_glorot_init_T              er_glorot_init_f
#include "encoder_template.h"

void er_encoder_input_f(const er_encoder_f *e, float *x) {
  int64_t F = e->lay.F;
  if (!e->sparse) {
    memcpy(x, e->xin, (size_t)(e->n_own * F) * sizeof(float));
    return;
  }
  memset(x, 0, (size_t)(e->n_own * F) * sizeof(float));
  for (int64_t i = 0; i < e->n_own; ++i)
    for (int64_t k = e->xsin->indptr[i]; k < e->xsin->indptr[i + 1]; ++k)
      x[i * F + e->xsin->col[k]] = e->xsin->val[k];
}

int64_t er_encoder_input_nnz_f(const er_encoder_f *e) { return e->sparse ? e->xs0.nnz : -1; }

double er_encoder_halo_wait_f(const er_encoder_f *e) { return sub_halos_waited(e); }
