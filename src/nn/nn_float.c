/* nn_float.c: defines the float (_f) kernels of nn.h (training runs them) by instantiating
 * dense_template.h, gat_template.h and gat_rows_template.h for float, and the _bf16 GAT kernels
 * (gat_rows_template.h on bf16 rows, gat_bf16.h). The kernels are written once, in the
 * templates; this file only names what they define. */
#include <cblas.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/bf16.h"
#include "erase/rng.h"
#include "nn_private.h"

#define REAL float
#define ER_GEMM cblas_sgemm

/* x[i] = expf(x[i]) for the n values of one row's softmax (gat_rows_template.h; x <= 0 there).
 * With glibc's libmvec and AVX2, 8 lanes per call: relative error at most 2.2e-7 against exp
 * in double over [-88, 0] (measured; expf's own is 0.6e-7, the two differ by at most 3 ulp).
 * The tail goes through the same 8-lane call, so a value's result does not depend on where it
 * sits in the row. Otherwise one expf at a time. */
#if defined(ERASE_HAVE_MVEC) && defined(__AVX2__) && defined(__x86_64__)
#include <immintrin.h>
__m256 _ZGVdN8v_expf(__m256 x); /* libmvec's AVX2 expf (glibc >= 2.22) */
static void er_expf_n(float *x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _ZGVdN8v_expf(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float t[8] = {0};
    memcpy(t, x + i, (size_t)(n - i) * sizeof *t);
    _mm256_storeu_ps(t, _ZGVdN8v_expf(_mm256_loadu_ps(t)));
    memcpy(x + i, t, (size_t)(n - i) * sizeof *t);
  }
}
#else
static void er_expf_n(float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = expf(x[i]);
}
#endif
#define ER_EXP_N er_expf_n

/* The templates define NAME_T; each NAME_T is the float name declared in nn.h. */
#define er_linear_forward_T       er_linear_forward_f
#define er_linear_backward_T      er_linear_backward_f
#define er_linear_forward_ref_T   er_linear_forward_ref_f
#define er_linear_backward_ref_T  er_linear_backward_ref_f
#define er_leakyrelu_forward_T    er_leakyrelu_forward_f
#define er_leakyrelu_backward_T   er_leakyrelu_backward_f
#define er_relu_forward_T         er_relu_forward_f
#define er_relu_backward_T        er_relu_backward_f
#define er_l1norm_forward_T       er_l1norm_forward_f
#define er_l1norm_backward_T      er_l1norm_backward_f
#define er_dropout_forward_T      er_dropout_forward_f
#define er_dropout_backward_T     er_dropout_backward_f
#define er_glorot_init_T          er_glorot_init_f
#define er_features_min_T         er_features_min_f
#define er_normalize_features_T   er_normalize_features_f
#include "dense_template.h"

#define er_gat_cache_T            er_gat_cache_f
#define er_gat_cache_create_T     er_gat_cache_create_f
#define er_gat_cache_destroy_T    er_gat_cache_destroy_f
#define er_gat_cache_bytes_T      er_gat_cache_bytes_f
#define er_gat_cache_alpha_T      er_gat_cache_alpha_f
#define er_gat_forward_ref_T      er_gat_forward_ref_f
#define er_gat_backward_ref_T     er_gat_backward_ref_f
#define er_gat_backward_rows_T    er_gat_backward_rows_f
#include "gat_template.h"

#define ROW                       float
#define ROW_LOAD(p, i)            ((p)[i])
#define ROW_FN(name)              name
#define er_gat_scores_T           er_gat_scores_f
#define er_gat_aggregate_T        er_gat_aggregate_f
#define er_gat_forward_T          er_gat_forward_f
#define er_gat_backward_gather_T  er_gat_backward_gather_f
#define er_gat_backward_sources_T er_gat_backward_sources_f
#define er_gat_backward_T         er_gat_backward_f
#include "gat_rows_template.h"

/* The _bf16 GAT kernels: rows stored as bf16, widened on load, float sums; the float cache,
 * checks and helpers above. */
#define ROW                       er_bf16
#define ROW_LOAD(p, i)            er_bf16_to_f((p)[i])
#define ROW_FN(name)              name##_bf16
#define er_gat_scores_T           er_gat_scores_bf16
#define er_gat_aggregate_T        er_gat_aggregate_bf16
#define er_gat_forward_T          er_gat_forward_bf16
#define er_gat_backward_gather_T  er_gat_backward_gather_bf16
#define er_gat_backward_sources_T er_gat_backward_sources_bf16
#include "gat_rows_template.h"
#include "gat_bf16.h"
