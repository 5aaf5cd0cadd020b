/* nn_double.c: defines the double (_d) kernels of nn.h (the gradient checks run them) by
 * instantiating dense_template.h, gat_template.h and gat_rows_template.h for double. The
 * kernels are written once, in the templates; this file only names what they define. */
#include <cblas.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/rng.h"
#include "nn_private.h"

#define REAL double
#define ER_GEMM cblas_dgemm

/* x[i] = exp(x[i]) for one row's softmax (gat_rows_template.h) */
static void er_exp_n(double *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = exp(x[i]);
}
#define ER_EXP_N er_exp_n

/* The templates define NAME_T; each NAME_T is the double name declared in nn.h. */
#define er_linear_forward_T       er_linear_forward_d
#define er_linear_backward_T      er_linear_backward_d
#define er_linear_forward_ref_T   er_linear_forward_ref_d
#define er_linear_backward_ref_T  er_linear_backward_ref_d
#define er_leakyrelu_forward_T    er_leakyrelu_forward_d
#define er_leakyrelu_backward_T   er_leakyrelu_backward_d
#define er_relu_forward_T         er_relu_forward_d
#define er_relu_backward_T        er_relu_backward_d
#define er_l1norm_forward_T       er_l1norm_forward_d
#define er_l1norm_backward_T      er_l1norm_backward_d
#define er_dropout_forward_T      er_dropout_forward_d
#define er_dropout_backward_T     er_dropout_backward_d
#define er_glorot_init_T          er_glorot_init_d
#define er_features_min_T         er_features_min_d
#define er_normalize_features_T   er_normalize_features_d
#include "dense_template.h"

#define er_gat_cache_T            er_gat_cache_d
#define er_gat_cache_create_T     er_gat_cache_create_d
#define er_gat_cache_destroy_T    er_gat_cache_destroy_d
#define er_gat_cache_bytes_T      er_gat_cache_bytes_d
#define er_gat_cache_alpha_T      er_gat_cache_alpha_d
#define er_gat_forward_ref_T      er_gat_forward_ref_d
#define er_gat_backward_ref_T     er_gat_backward_ref_d
#define er_gat_backward_rows_T    er_gat_backward_rows_d
#include "gat_template.h"

#define ROW                       double
#define ROW_LOAD(p, i)            ((p)[i])
#define ROW_FN(name)              name
#define er_gat_scores_T           er_gat_scores_d
#define er_gat_aggregate_T        er_gat_aggregate_d
#define er_gat_forward_T          er_gat_forward_d
#define er_gat_backward_gather_T  er_gat_backward_gather_d
#define er_gat_backward_sources_T er_gat_backward_sources_d
#define er_gat_backward_T         er_gat_backward_d
#include "gat_rows_template.h"
