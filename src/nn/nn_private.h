/* nn_private.h: what the two precision instantiations of the nn kernels share: the type-generic
 * naming macros and the local-graph validation. Not part of the public API. */
#ifndef ERASE_NN_PRIVATE_H
#define ERASE_NN_PRIVATE_H

#include "erase/nn.h"

/* ER_T(er_gat_forward) -> er_gat_forward_f or _d, by ER_NN_SUFFIX (f or d). */
#define ER_T3_(a, b) a##_##b
#define ER_T2_(a, b) ER_T3_(a, b)
#define ER_T(name) ER_T2_(name, ER_NN_SUFFIX)

/* Validate a local graph: sizes, indptr[0] == 0 and non-decreasing, columns in [0, n_tot), no
 * stored self loop. On success *max_deg is the largest stored row degree. ER_ERR_INPUT with a
 * message naming the first offending row otherwise. O(n_own + nnz). */
er_err er_nn_lgraph_check(const er_lgraph *g, int64_t *max_deg);

#endif
