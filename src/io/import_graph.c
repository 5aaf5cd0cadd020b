/* import_graph.c: import's edge stage (import_private.h): every rank reads its share of the
 * edge input (edge list, CSV, Matrix Market adjacency or .npy edge index) into (u, v) pairs;
 * the pairs travel in rounds to the owners of their endpoints twice, first for the row lengths
 * and then for the columns, so that no rank holds more than its pairs and its rows; each owner
 * sorts and deduplicates its rows and writes them. It does not partition the graph. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erase/h5.h"
#include "erase/sort.h"
#include "import_private.h"

#define ROUND_PAIRS ((int64_t)1 << 17) /* pairs a rank sends per round (each to one or two) */
#define NPY_EDGES ((int64_t)1 << 17)   /* .npy edges read at a time */
#define TAKE_AHEAD 32                  /* pairs ahead whose row counters are prefetched */

//------------------------------------------------------------------------------------------
// Reading: this rank's pairs
//------------------------------------------------------------------------------------------

/* Text: every piece of this rank's share of the lines. Input errors are deferred. Local. */
static er_err edges_text(imp_ctx *c, imp_reader *r, const imp_head *h, er_text_pairs *pr) {
  er_err err = ER_OK;
  for (;;) {
    er_text_chunk ch;
    er_text_stop stop = {0, 0};
    int got = 0;
    err = imp_reader_next(r, &ch, &got);
    if (err == ER_ERR_INPUT) return imp_defer(&c->first, err, IMP_KEY(0, r->line, 0));
    ER_CALL(err);
    if (!got) break;
    if (h->is_mm) err = er_text_parse_mm_edges(&ch, &h->mm, pr, &stop);
    else err = er_text_parse_edge_list(&ch, c->ogb, c->n, c->path[IMP_FEATURES], pr, &stop);
    if (err == ER_ERR_INPUT) return imp_defer(&c->first, err, IMP_KEY(0, stop.line, 0));
    ER_CALL(err);
  }
cleanup:
  return err;
}

/* .npy edge index (2, E) or (E, 2): this rank's slice of the edges. Local; input errors
 * deferred. */
static er_err edges_npy(imp_ctx *c, const char *path, const imp_head *h, er_text_pairs *pr) {
  er_err err = ER_OK;
  int fd = -1;
  char *buf = NULL;
  int64_t *v = NULL;
  const int two_rows = h->npy.shape[0] == 2, isz = h->npy.itemsize;
  const int64_t ne = two_rows ? h->npy.shape[1] : h->npy.shape[0];
  const int64_t a = (int64_t)((__int128)ne * c->rank / c->size);
  const int64_t b = (int64_t)((__int128)ne * (c->rank + 1) / c->size);
  fd = open(path, O_RDONLY);
  ER_CHECK(fd >= 0, ER_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  ER_MALLOC(buf, (size_t)(2 * NPY_EDGES * isz));
  ER_MALLOC(v, 2 * NPY_EDGES);
  for (int64_t at = a; at < b; at += NPY_EDGES) {
    const int64_t k = b - at < NPY_EDGES ? b - at : NPY_EDGES;
    /* (2, E): the sources are elements [at, at + k), the targets [E + at, E + at + k);
     * (E, 2): the pairs are elements [2 at, 2 (at + k)) */
    const int64_t part[2][2] = {{two_rows ? at : 2 * at, two_rows ? k : 2 * k},
                                {ne + at, two_rows ? k : 0}};
    for (int q = 0, into = 0; q < 2; into += (int)part[q][1] * isz, ++q)
      if (part[q][1] > 0)
        ER_CALL(imp_pread(fd, path, buf + into, (size_t)(part[q][1] * isz),
                          h->npy.data_off + part[q][0] * isz));
    er_npy_to_i64(&h->npy, buf, 2 * k, v);
    for (int64_t e = 0; e < k; ++e) {
      int64_t u = two_rows ? v[e] : v[2 * e], w = two_rows ? v[k + e] : v[2 * e + 1];
      int64_t bad = u < 0 || u >= c->n ? u : w;
      if (u < 0 || w < 0 || u >= c->n || w >= c->n) {
        err = bad < 0 ? ER_ERROR(ER_ERR_INPUT, "%s: edge %lld: negative node id %lld", path,
                                 (long long)(at + e), (long long)bad)
                      : ER_ERROR(ER_ERR_INPUT, "%s: edge %lld: node id %lld is beyond the node "
                                 "count N=%lld (the rows of the features file '%s'): ids must be "
                                 "0..N-1", path, (long long)(at + e), (long long)bad,
                                 (long long)c->n, c->path[IMP_FEATURES]);
        err = imp_defer(&c->first, err, IMP_KEY(0, at + e + 1, 0));
        goto cleanup;
      }
      ER_CALL(er_text_pairs_push(pr, u, w));
    }
  }
cleanup:
  if (fd >= 0) close(fd);
  free(buf);
  free(v);
  return err;
}

//------------------------------------------------------------------------------------------
// Rows: pairs to the owners of their endpoints
//------------------------------------------------------------------------------------------

/* The owner's side of the m pairs uv for each endpoint r in [lo, hi): counts (cols == NULL:
 * deg[r - lo + 1] += 1) or places (cols[fill[r - lo]++] = the other endpoint). The counters
 * are random accesses across the rank's rows: each pair's counters are prefetched TAKE_AHEAD
 * pairs ahead, and its column slots half as far ahead (their counters are in cache by then).
 * At P ranks about half the endpoints are another rank's, at random: no branch decides, an
 * endpoint outside the rows adds 0 to row lo's counter, or writes its column into the spare
 * slot fill[hi - lo] names (past the last row's end) without moving it. */
static void edges_take(const int64_t *uv, int64_t m, int64_t lo, int64_t hi, int64_t *deg,
                       int64_t *cols, int64_t *fill) {
  const uint64_t n = (uint64_t)(hi - lo);
  int64_t *slot = cols ? fill : deg + 1; /* the counter of row lo */
  for (int64_t e = 0; e < m; ++e) {
    if (e + TAKE_AHEAD < m)
      for (int s = 0; s < 2; ++s) {
        const uint64_t r = (uint64_t)(uv[2 * (e + TAKE_AHEAD) + s] - lo);
        __builtin_prefetch(slot + (r < n ? r : 0), 1);
      }
    if (cols && e + TAKE_AHEAD / 2 < m)
      for (int s = 0; s < 2; ++s) {
        const uint64_t r = (uint64_t)(uv[2 * (e + TAKE_AHEAD / 2) + s] - lo);
        __builtin_prefetch(cols + fill[r < n ? r : n], 1);
      }
    for (int s = 0; s < 2; ++s) {
      const uint64_t r = (uint64_t)(uv[2 * e + s] - lo);
      const int64_t in = r < n;
      if (cols) {
        const uint64_t i = in ? r : n;
        cols[fill[i]] = uv[2 * e + 1 - s];
        fill[i] += in;
      } else {
        slot[in ? r : 0] += in;
      }
    }
  }
}

/* Collective. Every pair (u, v) reaches the owner of u and the owner of v, which count or
 * place it (edges_take). An endpoint this rank owns is taken here, without travelling; the pair
 * is sent to each other owner (once when both endpoints are another's). A row's entries arrive
 * in another order than at a different rank count; edges_rows sorts them. */
static er_err edges_route(imp_ctx *c, const er_text_pairs *pr, int64_t *deg, int64_t *cols,
                          int64_t *fill) {
  er_err err = ER_OK;
  int64_t *out = NULL, *cnt = NULL, *pos = NULL;
  imp_cols in = {0};
  const int64_t lo = c->lo, hi = c->lo + c->nloc;
  const int me = c->rank;
  if (c->size == 1) {
    edges_take(pr->uv, pr->m, lo, hi, deg, cols, fill);
    return ER_OK;
  }
  const int64_t spare = 2 * ROUND_PAIRS; /* the pair slot an endpoint of this rank's goes to */
  ER_MALLOC(out, 2 * (spare + 1));
  ER_MALLOC(cnt, c->size);
  ER_MALLOC(pos, c->size);
  int64_t at = 0;
  for (int more_any = 1; more_any;) {
    const int64_t k = pr->m - at < ROUND_PAIRS ? pr->m - at : ROUND_PAIRS;
    const int64_t *uv = pr->uv + 2 * at;
    int64_t nin = 0;
    memset(cnt, 0, (size_t)c->size * sizeof *cnt);
    /* this rank's endpoints taken; the rest grouped by destination: counted, then placed */
    edges_take(uv, k, lo, hi, deg, cols, fill);
    for (int64_t e = 0; e < k; ++e) {
      const int du = imp_owner(&c->owners, uv[2 * e]), dv = imp_owner(&c->owners, uv[2 * e + 1]);
      cnt[du] += du != me;
      cnt[dv] += dv != me && dv != du;
    }
    for (int q = 0; q < c->size; ++q) pos[q] = q ? pos[q - 1] + cnt[q - 1] : 0;
    for (int64_t e = 0; e < k; ++e) {
      const int du = imp_owner(&c->owners, uv[2 * e]), dv = imp_owner(&c->owners, uv[2 * e + 1]);
      const int64_t su = du != me, sv = dv != me && dv != du;
      memcpy(out + 2 * (su ? pos[du] : spare), uv + 2 * e, 16);
      pos[du] += su;
      memcpy(out + 2 * (sv ? pos[dv] : spare), uv + 2 * e, 16);
      pos[dv] += sv;
    }
    at += k;
    imp_cols send = {.ncol = 1, .size = {16}, .col = {out}};
    ER_CALL(imp_exchange_grouped(c->comm, &send, cnt, at < pr->m, &in, &nin, &more_any));
    edges_take(in.col[0], nin, lo, hi, deg, cols, fill);
    imp_cols_free(&in);
  }
cleanup:
  imp_cols_free(&in);
  free(out);
  free(cnt);
  free(pos);
  return ER_FINISH(c->comm);
}

/* Collective. The row lengths into deg[1 .. nloc]. When the node count is small beside the
 * pairs (N <= 4 E / P: an int per node is at most the memory of a rank's pairs), every rank
 * counts its pairs' endpoints in an array over all N nodes and MPI_Reduce_scatter sums each
 * block on its owner; otherwise, or on one rank, edges_route counts them. */
static er_err edges_lengths(imp_ctx *c, const er_text_pairs *pr, int64_t *deg) {
  er_err err = ER_OK;
  int32_t *all = NULL, *mine = NULL;
  int *block = NULL;
  const int dense = c->n <= 4 * (c->entries / c->size + 1) && 2 * c->entries < INT32_MAX &&
                    c->n < INT32_MAX; /* the same on every rank: entries is a global sum */
  if (!dense || c->size == 1) return edges_route(c, pr, deg, NULL, NULL);
  ER_CALLOC(all, c->n);
  ER_MALLOC(mine, c->nloc);
  ER_MALLOC(block, c->size);
  for (int q = 0; q < c->size; ++q)
    block[q] = (int)(c->owners.bounds[q + 1 < c->size ? q + 1 : q] - c->owners.bounds[q]);
  block[c->size - 1] = (int)(c->n - c->owners.bounds[c->size - 1]);
  for (int64_t e = 0; e < 2 * pr->m; ++e) all[pr->uv[e]]++;
  ER_AGREE(c->comm);
  ER_CALL_MPI(MPI_Reduce_scatter(all, mine, block, MPI_INT32_T, MPI_SUM, c->comm));
  for (int64_t i = 0; i < c->nloc; ++i) deg[i + 1] = mine[i];
cleanup:
  free(all);
  free(mine);
  free(block);
  return ER_FINISH(c->comm);
}

/* Collective. This rank's CSR rows: *indptr (nloc + 1, from 0) and *cols, every row sorted
 * ascending without duplicates (*dups entries dropped). */
static er_err edges_rows(imp_ctx *c, const er_text_pairs *pr, int64_t **indptr_out,
                         int64_t **cols_out, int64_t *dups) {
  er_err err = ER_OK;
  int64_t *indptr = NULL, *cols = NULL, *fill = NULL;
  const int64_t nloc = c->nloc;
  ER_CALLOC(indptr, nloc + 1);
  ER_CALL(edges_lengths(c, pr, indptr));
  for (int64_t i = 0; i < nloc; ++i) indptr[i + 1] += indptr[i];
  ER_MALLOC(cols, indptr[nloc] + 1); /* and edges_take's spare slot */
  ER_MALLOC(fill, nloc + 1);
  memcpy(fill, indptr, (size_t)(nloc + 1) * sizeof *fill);
  ER_CALL(edges_route(c, pr, NULL, cols, fill));
  int64_t kept = 0, dropped = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t b = indptr[i], e = indptr[i + 1];
    er_sort_i64(cols + b, e - b);
    indptr[i] = kept;
    for (int64_t q = b; q < e; ++q)
      if (kept > indptr[i] && cols[kept - 1] == cols[q]) dropped++;
      else cols[kept++] = cols[q];
  }
  indptr[nloc] = kept;
  *indptr_out = indptr;
  *cols_out = cols;
  *dups = dropped;
  indptr = cols = NULL;
cleanup:
  err = ER_FINISH(c->comm);
  free(indptr);
  free(cols);
  free(fill);
  return err;
}

//------------------------------------------------------------------------------------------
// The stage
//------------------------------------------------------------------------------------------

er_err imp_edges(imp_ctx *c) {
  er_err err = ER_OK;
  imp_head h;
  imp_reader r;
  er_text_pairs pr = {0};
  int64_t *indptr = NULL, *cols = NULL, dups = 0;
  const char *path = c->path[IMP_EDGES];
  char shape[96];
  memset(&r, 0, sizeof r);
  r.fd = -1;
  ER_CALL(imp_head_read(c->comm, path, "edge", c->ogb ? 0 : IMP_HEAD_MAYBE_MM | IMP_HEAD_NPY, 0,
                        &c->first, &h));
  if (h.failed) ER_CALL(imp_first_agree(c->comm, &c->first));

  //---- this rank's pairs ----
  if (h.kind == IMP_NPY) {
    er_npy_shape_str(&h.npy, shape, sizeof shape);
    ER_CHECK(h.npy.dtype == ER_NPY_I4 || h.npy.dtype == ER_NPY_I8, ER_ERR_INPUT,
             "%s: edge index dtype '%s' is not int32 or int64", path, h.npy.descr);
    ER_CHECK(h.npy.ndim == 2 && (h.npy.shape[0] == 2 || h.npy.shape[1] == 2), ER_ERR_INPUT,
             "%s: edge index has shape %s, expected (2, E) or (E, 2)", path, shape);
    err = edges_npy(c, path, &h, &pr);
    ER_AGREE(c->comm);
  } else {
    const int64_t line = h.data_line - 1; /* the size line */
    ER_CHECK(!h.is_mm || h.mm.coordinate, ER_ERR_INPUT,
             "%s:%lld: adjacency Matrix Market must be 'coordinate', not 'array'", path,
             (long long)line);
    ER_CHECK(!h.is_mm || (h.mm.rows == h.mm.cols && h.mm.rows == c->n), ER_ERR_INPUT,
             "%s:%lld: adjacency is %lld x %lld but the features file '%s' has N=%lld rows", path,
             (long long)line, (long long)h.mm.rows, (long long)h.mm.cols, c->path[IMP_FEATURES],
             (long long)c->n);
    ER_CALL(imp_reader_open(c->comm, &r, path, "edge", &h,
                            h.is_mm ? ER_ITEM_MM_DATA : ER_ITEM_NONE));
    /* at most one pair per 4 bytes ("0 1\n"): pages never touched are never resident */
    if (!r.gz) err = er_text_pairs_reserve(&pr, (r.hi - r.lo) / 4 + 1);
    if (err == ER_OK) err = edges_text(c, &r, &h, &pr);
    if (err == ER_OK && c->rank == 0 && h.is_mm && r.totals_known && r.total_items < h.mm.nnz) {
      err = ER_ERROR(ER_ERR_INPUT, "%s: file ends after %lld of the %lld declared entries", path,
                     (long long)r.total_items, (long long)h.mm.nnz);
      err = imp_defer(&c->first, err, IMP_KEY(0, IMP_END, 0));
    }
    imp_reader_close(&r);
    ER_AGREE(c->comm);
  }
  int64_t sums[2] = {pr.entries, pr.self_loops};
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_INT64_T, MPI_SUM, c->comm));
  if (c->rank == 0 && sums[0] == 0) {
    err = ER_ERROR(ER_ERR_INPUT, "edge file '%s' contains no edges", path);
    err = imp_defer(&c->first, err, IMP_KEY(0, IMP_END, 1));
  }
  ER_AGREE(c->comm);
  ER_CALL(imp_first_agree(c->comm, &c->first));
  c->entries = sums[0];
  c->self_loops = sums[1];

  //---- rows to their owners, written ----
  ER_CALL(edges_rows(c, &pr, &indptr, &cols, &dups));
  er_text_pairs_free(&pr);
  er_mem_trim();
  int64_t nnz = indptr[c->nloc], off = 0, tot[2] = {nnz, dups};
  ER_CALL_MPI(MPI_Exscan(&nnz, &off, 1, MPI_INT64_T, MPI_SUM, c->comm));
  if (c->rank == 0) off = 0;
  ER_AGREE(c->comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, tot, 2, MPI_INT64_T, MPI_SUM, c->comm));
  c->nnz = tot[0];
  c->duplicates = tot[1] / 2; /* a repeated undirected edge drops one entry in each row */
  for (int64_t i = 0; i <= c->nloc; ++i) indptr[i] += off;
  const int last = c->rank == c->size - 1; /* writes indptr[N] too */
  ER_AGREE(c->comm);
  ER_CALL(er_agree(c->comm, er_h5_write_rows(c->fid, ER_DS_INDPTR, H5T_STD_I64LE,
                                             H5T_NATIVE_INT64, c->n + 1, 0, c->lo,
                                             c->nloc + last, indptr)));
  ER_CALL(er_agree(c->comm, er_h5_write_rows(c->fid, ER_DS_INDICES, H5T_STD_I64LE,
                                             H5T_NATIVE_INT64, c->nnz, 0, off, nnz, cols)));
cleanup:
  err = ER_FINISH(c->comm);
  imp_reader_close(&r);
  er_text_pairs_free(&pr);
  free(indptr);
  free(cols);
  er_mem_trim();
  return err;
}
