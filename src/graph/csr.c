/* csr.c: the whole graph on every process of a communicator (tests, serial references, the
 * partitioner's root), read collectively from /graph/indptr and /graph/indices and validated.
 * It does not distribute rows or number ghosts: that is er_dgraph's job. */
#include <stdlib.h>

#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/sort.h"

/* The dataset's contract: indptr starts at 0, never decreases and ends at nnz; indices lie in
 * [0, n), strictly ascending per row (no duplicates), no self loops, and the pattern is
 * symmetric. Every entry (u, v) with v > u must have its mate (v, u); with no duplicates,
 * 2 * (number of upper entries) == nnz then makes the mate map a bijection. */
static er_err csr_validate(const er_csr *c) {
  er_err err = ER_OK;
  int64_t upper = 0;
  ER_CHECK(c->indptr[0] == 0, ER_ERR_INPUT, "%s[0] is %lld, expected 0", ER_DS_INDPTR,
           (long long)c->indptr[0]);
  for (int64_t u = 0; u < c->n; ++u)
    ER_CHECK(c->indptr[u + 1] >= c->indptr[u] && c->indptr[u + 1] <= c->nnz, ER_ERR_INPUT,
             "%s is not non-decreasing within [0, %lld] at row %lld", ER_DS_INDPTR,
             (long long)c->nnz, (long long)u);
  ER_CHECK(c->indptr[c->n] == c->nnz, ER_ERR_INPUT,
           "%s ends at %lld but %s has %lld entries", ER_DS_INDPTR,
           (long long)c->indptr[c->n], ER_DS_INDICES, (long long)c->nnz);
  for (int64_t u = 0; u < c->n; ++u) {
    for (int64_t k = c->indptr[u]; k < c->indptr[u + 1]; ++k) {
      int64_t v = c->indices[k];
      ER_CHECK(v >= 0 && v < c->n, ER_ERR_INPUT,
               "%s: row %lld has neighbour %lld outside [0, %lld)", ER_DS_INDICES, (long long)u,
               (long long)v, (long long)c->n);
      ER_CHECK(v != u, ER_ERR_INPUT, "%s: row %lld has a self loop", ER_DS_INDICES,
               (long long)u);
      ER_CHECK(k == c->indptr[u] || c->indices[k - 1] < v, ER_ERR_INPUT,
               "%s: row %lld is not strictly ascending (unsorted or duplicate neighbour %lld)",
               ER_DS_INDICES, (long long)u, (long long)v);
      if (v > u) {
        const int64_t *row_v = c->indices + c->indptr[v];
        ER_CHECK(er_search_i64(row_v, c->indptr[v + 1] - c->indptr[v], u) >= 0, ER_ERR_INPUT,
                 "graph is not symmetric: edge %lld -> %lld has no reverse", (long long)u,
                 (long long)v);
        ++upper;
      }
    }
  }
  ER_CHECK(2 * upper == c->nnz, ER_ERR_INPUT,
           "graph is not symmetric: %lld entries below the diagonal lack a reverse",
           (long long)(c->nnz - 2 * upper));
cleanup:
  return err;
}

er_err er_csr_read(MPI_Comm comm, hid_t fid, er_csr *csr) {
  er_err err = ER_OK;
  int nd_p, nd_i;
  int64_t dims_p[2], dims_i[2];
  er_csr c = {0, 0, NULL, NULL};
  *csr = c;

  // ---- shapes (file metadata: every rank reaches the same verdict) ----
  ER_CHECK(er_h5_exists(fid, ER_DS_INDPTR), ER_ERR_INPUT,
           "the file holds no graph: dataset '%s' is missing", ER_DS_INDPTR);
  ER_CHECK(er_h5_exists(fid, ER_DS_INDICES), ER_ERR_INPUT,
           "the file holds no graph: dataset '%s' is missing", ER_DS_INDICES);
  ER_CALL(er_h5_shape(fid, ER_DS_INDPTR, &nd_p, dims_p));
  ER_CALL(er_h5_shape(fid, ER_DS_INDICES, &nd_i, dims_i));
  ER_CHECK(nd_p == 1 && dims_p[0] >= 1, ER_ERR_INPUT, "%s must be 1-D with N+1 >= 1 entries",
           ER_DS_INDPTR);
  ER_CHECK(nd_i == 1, ER_ERR_INPUT, "%s must be 1-D", ER_DS_INDICES);
  c.n = dims_p[0] - 1;
  c.nnz = dims_i[0];

  // ---- read everything on every rank ----
  ER_MALLOC(c.indptr, c.n + 1);
  ER_MALLOC(c.indices, c.nnz);
  ER_AGREE(comm); /* nobody enters the collective reads alone */
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDPTR, H5T_NATIVE_INT64, 0, c.n + 1, c.indptr));
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDICES, H5T_NATIVE_INT64, 0, c.nnz, c.indices));

  // ---- validate (same data on every rank; the verdict is agreed below anyway) ----
  ER_CALL(csr_validate(&c));
  *csr = c;
  c.indptr = NULL;
  c.indices = NULL;
cleanup:
  err = ER_FINISH(comm);
  er_csr_free(&c);
  if (err != ER_OK) er_csr_free(csr);
  return err;
}

void er_csr_free(er_csr *csr) {
  if (!csr) return;
  ER_FREE(csr->indptr);
  ER_FREE(csr->indices);
  csr->n = 0;
  csr->nnz = 0;
}
