/* nn_private.h: the local-graph validation that lgraph.c defines and the GAT template calls.
 * Not part of the public API; nothing outside src/nn includes it. */
#ifndef ERASE_NN_PRIVATE_H
#define ERASE_NN_PRIVATE_H

#include "erase/mem.h"
#include "erase/nn.h"

/* Validate a local graph: sizes, indptr[0] == 0 and non-decreasing, columns in [0, n_tot), no
 * stored self loop. On success *max_deg is the largest stored row degree. ER_ERR_INPUT with a
 * message naming the first offending row otherwise. O(n_own + nnz). */
er_err er_nn_lgraph_check(const er_lgraph *g, int64_t *max_deg);

#endif
