/* lgraph.c: validation of the rank-local graph view the GAT kernels consume.
 * It only checks; it never repairs (sorting, dropping self loops) a graph. */
#include <inttypes.h>

#include "nn_private.h"

er_err er_nn_lgraph_check(const er_lgraph *g, int64_t *max_deg) {
  er_err err = ER_OK;
  int64_t md = 0;
  ER_CHECK(g != NULL, ER_ERR_INPUT, "local graph is NULL");
  ER_CHECK(g->n_own >= 0 && g->n_tot >= g->n_own, ER_ERR_INPUT,
           "local graph sizes invalid: n_own %" PRId64 ", n_tot %" PRId64, g->n_own, g->n_tot);
  ER_CHECK(g->n_tot <= INT32_MAX, ER_ERR_INPUT,
           "local graph has %" PRId64 " rows, more than a local index can address", g->n_tot);
  ER_CHECK(g->indptr != NULL, ER_ERR_INPUT, "local graph indptr is NULL");
  ER_CHECK(g->indptr[0] == 0, ER_ERR_INPUT, "local graph indptr[0] is %" PRId64 ", not 0",
           g->indptr[0]);
  ER_CHECK(g->indptr[g->n_own] == 0 || g->indices != NULL, ER_ERR_INPUT,
           "local graph indices is NULL");
  for (int64_t i = 0; i < g->n_own; i++) {
    int64_t p0 = g->indptr[i], p1 = g->indptr[i + 1];
    ER_CHECK(p1 >= p0, ER_ERR_INPUT, "local graph indptr decreases at row %" PRId64, i);
    if (p1 - p0 > md) md = p1 - p0;
    for (int64_t p = p0; p < p1; p++) {
      er_lidx j = g->indices[p];
      ER_CHECK(j >= 0 && j < g->n_tot, ER_ERR_INPUT,
               "local graph row %" PRId64 " has column %d outside [0, %" PRId64 ")", i, (int)j,
               g->n_tot);
      ER_CHECK(j != i, ER_ERR_INPUT,
               "local graph row %" PRId64 " stores a self loop (the GAT adds its own)", i);
    }
  }
  if (max_deg) *max_deg = md;
cleanup:
  return err;
}
