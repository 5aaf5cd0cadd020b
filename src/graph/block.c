/* block.c: the one parallel pass over a dataset that every command reading one makes: each rank
 * reads its contiguous block of rows, checks it as `import` checks text, verifies the arrays'
 * checksums, and learns its rows' owners; the blocks then serve as the directory of owners.
 * Nothing here holds an array of N on one rank. It does not number ghosts (dgraph.c does). */
#include "block.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erase/h5.h"
#include "erase/sort.h"

enum { DIG_INDPTR, DIG_INDICES, DIG_LABELS, DIG_FEATURES, DIG_OWNER, DIG_SPLIT, DIG_N = 8 };
static const char *const split_names[3] = {ER_DS_TRAIN, ER_DS_VAL, ER_DS_TEST};

void er_dblock_free(er_dblock *b) {
  free(b->indptr), free(b->cols), free(b->labels), free(b->split), free(b->x), free(b->owner);
  memset(b, 0, sizeof *b);
}

/* Symmetry without a second copy of the graph: with rows free of duplicates, the pattern is
 * symmetric iff the multiset of entries (u, v) equals that of (v, u); compare the sums of a
 * hash of both orientations (a false "symmetric" has probability ~2^-64). */
static inline uint64_t edge_hash(int64_t u, int64_t v) {
  uint64_t h = (uint64_t)u * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)v + 0x632be59bd9b4e019ULL);
  h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 29)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 32);
}

/* Who sent what in a route(), for the answers that go back: per rank counts of tuples sent and
 * received, and for the j-th tuple sent, its index in the caller's array. */
typedef struct {
  int *sent, *received; /* (size) */
  int64_t *order;       /* (n) */
} route_plan;

static void route_plan_free(route_plan *p) {
  free(p->sent), free(p->received), free(p->order);
  memset(p, 0, sizeof *p);
}

/* Collective. Every tuple (w int64, the first a node id in [0, N)) goes to the rank whose block
 * holds that node; *out (caller frees) receives the tuples sent to this rank, in source-rank
 * order. plan (may be NULL) is filled for answering back. */
static er_err route(MPI_Comm comm, int64_t N, const int64_t *tuples, int64_t n, int w,
                    int64_t **out, int64_t *n_out, route_plan *plan) {
  er_err err = ER_OK;
  int size;
  int *scnt = NULL, *sdsp = NULL, *rcnt = NULL, *rdsp = NULL, *fill = NULL;
  int64_t *sbuf = NULL, *order = NULL;
  MPI_Datatype tuple = MPI_DATATYPE_NULL;
  MPI_Comm_size(comm, &size);
  *out = NULL;
  ER_CALLOC(scnt, size);
  ER_CALLOC(sdsp, size);
  ER_CALLOC(rcnt, size);
  ER_CALLOC(rdsp, size);
  ER_CALLOC(fill, size);
  ER_MALLOC(sbuf, n * w);
  ER_MALLOC(order, n);
  for (int64_t k = 0; k < n; ++k) scnt[er_block_owner(N, size, tuples[k * w])]++;
  for (int r = 1; r < size; ++r) sdsp[r] = sdsp[r - 1] + scnt[r - 1];
  for (int64_t k = 0; k < n; ++k) {
    int r = er_block_owner(N, size, tuples[k * w]);
    int64_t j = sdsp[r] + fill[r]++;
    memcpy(sbuf + j * w, tuples + k * w, (size_t)w * sizeof *sbuf);
    order[j] = k;
  }
  ER_CHECK(n < INT32_MAX, ER_ERR_INPUT, "a rank would send %lld records in one exchange: run "
           "with more ranks", (long long)n);
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm));
  int64_t total = 0;
  for (int r = 0; r < size; ++r) rdsp[r] = (int)(total < INT32_MAX ? total : 0), total += rcnt[r];
  ER_CHECK(total < INT32_MAX, ER_ERR_INPUT, "a rank would receive %lld records in one exchange: "
           "run with more ranks", (long long)total);
  ER_MALLOC(*out, total * w);
  ER_CALL_MPI(MPI_Type_contiguous(w, MPI_INT64_T, &tuple));
  ER_CALL_MPI(MPI_Type_commit(&tuple));
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoallv(sbuf, scnt, sdsp, tuple, *out, rcnt, rdsp, tuple, comm));
  *n_out = total;
  if (plan) {
    plan->sent = scnt, plan->received = rcnt, plan->order = order;
    scnt = rcnt = NULL, order = NULL;
  }
cleanup:
  err = ER_FINISH(comm);
  if (tuple != MPI_DATATYPE_NULL) MPI_Type_free(&tuple);
  if (err != ER_OK) ER_FREE(*out);
  free(scnt), free(sdsp), free(rcnt), free(rdsp), free(fill), free(sbuf), free(order);
  return err;
}

er_err er_dblock_owners(MPI_Comm comm, const er_dblock *b, const int64_t *ids, int64_t n,
                        int32_t *owners) {
  er_err err = ER_OK;
  int size;
  int *sdsp = NULL, *rdsp = NULL;
  int64_t *asked = NULL, nasked = 0;
  int32_t *answer = NULL, *got = NULL;
  route_plan plan = {0};
  MPI_Comm_size(comm, &size);
  ER_CALL(route(comm, b->N, ids, n, 1, &asked, &nasked, &plan));
  /* the answers go back along the same counts, reversed */
  ER_CALLOC(sdsp, size);
  ER_CALLOC(rdsp, size);
  for (int r = 1; r < size; ++r) {
    sdsp[r] = sdsp[r - 1] + plan.sent[r - 1];
    rdsp[r] = rdsp[r - 1] + plan.received[r - 1];
  }
  ER_MALLOC(answer, nasked);
  ER_MALLOC(got, n);
  for (int64_t k = 0; k < nasked; ++k) answer[k] = b->owner[asked[k] - b->lo];
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoallv(answer, plan.received, rdsp, MPI_INT32_T, got, plan.sent, sdsp,
                            MPI_INT32_T, comm));
  for (int64_t j = 0; j < n; ++j) owners[plan.order[j]] = got[j];
cleanup:
  err = ER_FINISH(comm);
  route_plan_free(&plan);
  free(sdsp), free(rdsp), free(asked), free(answer), free(got);
  return err;
}

//---- reading -------------------------------------------------------------------------------

typedef struct {
  char file[1024];
  int has[DIG_N];        /* the array carries a digest attribute of its stored bytes */
  int64_t want[DIG_N];   /* the attribute */
  uint64_t part[DIG_N];  /* this rank's part of the recomputed digest */
} digests;

static const char *digest_name(int k, const char *part_name) {
  static const char *const names[DIG_SPLIT] = {ER_DS_INDPTR, ER_DS_INDICES, ER_DS_LABELS,
                                               ER_DS_FEATURES, NULL};
  return k == DIG_OWNER ? part_name : k >= DIG_SPLIT ? split_names[k - DIG_SPLIT] : names[k];
}

/* Element types: integers where ids, offsets and labels are expected, reals for features; the
 * digest is checked only where the stored element is the size we read it as. */
static er_err check_types(hid_t fid, hid_t part_fid, const char *part_name, int load_features,
                          digests *dg) {
  er_err err = ER_OK;
  const size_t want_bytes[DIG_N] = {8, 8, 4, 4, 4, 8, 8, 8};
  for (int k = 0; k < DIG_N; ++k) {
    const char *name = digest_name(k, part_name);
    hid_t f = k == DIG_OWNER ? part_fid : fid;
    int is_float;
    size_t bytes;
    if (!name || (k == DIG_FEATURES && !load_features)) continue;
    ER_CALL(er_h5_dtype(f, name, &is_float, &bytes));
    ER_CHECK(is_float == (k == DIG_FEATURES), ER_ERR_INPUT, "dataset '%s': %s holds %s values, "
             "expected %s", dg->file, name, is_float ? "real" : "integer",
             k == DIG_FEATURES ? "reals" : "integers");
    dg->has[k] = bytes == want_bytes[k] && er_h5_has_attr(f, name, "digest");
    if (dg->has[k]) ER_CALL(er_h5_attr_get_i64(f, name, "digest", &dg->want[k]));
  }
cleanup:
  return err;
}

/* Local checks of the block's CSR rows; the symmetric sums go to sym[2]. */
static er_err check_rows(const er_dblock *b, int64_t nnz, int last_rank, const char *file,
                         uint64_t sym[2]) {
  er_err err = ER_OK;
  const int64_t *p = b->indptr;
  ER_CHECK(b->lo > 0 || p[0] == 0, ER_ERR_INPUT, "dataset '%s': %s[0] is %lld, expected 0",
           file, ER_DS_INDPTR, (long long)p[0]);
  for (int64_t i = 0; i < b->n; ++i)
    ER_CHECK(p[i + 1] >= p[i] && p[i + 1] <= nnz, ER_ERR_INPUT, "dataset '%s': %s is not "
             "non-decreasing within [0, %lld] at row %lld", file, ER_DS_INDPTR, (long long)nnz,
             (long long)(b->lo + i));
  ER_CHECK(!last_rank || p[b->n] == nnz, ER_ERR_INPUT, "dataset '%s': %s ends at %lld but %s has "
           "%lld entries", file, ER_DS_INDPTR, (long long)p[b->n], ER_DS_INDICES, (long long)nnz);
  for (int64_t i = 0; i < b->n; ++i) {
    int64_t u = b->lo + i;
    for (int64_t k = p[i] - p[0]; k < p[i + 1] - p[0]; ++k) {
      int64_t v = b->cols[k];
      ER_CHECK(v >= 0 && v < b->N, ER_ERR_INPUT, "dataset '%s': %s: row %lld has neighbour %lld "
               "outside [0, %lld)", file, ER_DS_INDICES, (long long)u, (long long)v,
               (long long)b->N);
      ER_CHECK(v != u, ER_ERR_INPUT, "dataset '%s': %s: row %lld has a self loop", file,
               ER_DS_INDICES, (long long)u);
      ER_CHECK(k == p[i] - p[0] || b->cols[k - 1] < v, ER_ERR_INPUT, "dataset '%s': %s: row %lld "
               "is not strictly ascending (unsorted or duplicate neighbour %lld)", file,
               ER_DS_INDICES, (long long)u, (long long)v);
      sym[0] += edge_hash(u, v);
      sym[1] += edge_hash(v, u);
    }
  }
cleanup:
  return err;
}

/* Collective, after the sums said "not symmetric": find an entry (u, v) whose mate (v, u) is
 * missing by asking the block of v, and name it. */
static er_err name_asymmetry(MPI_Comm comm, const er_dblock *b, const char *file) {
  er_err err = ER_OK;
  int64_t *pairs = NULL, *got = NULL, ngot = 0, ne = b->indptr[b->n] - b->indptr[0];
  ER_MALLOC(pairs, 2 * ne);
  for (int64_t i = 0, k = 0; i < b->n; ++i)
    for (int64_t e = b->indptr[i] - b->indptr[0]; e < b->indptr[i + 1] - b->indptr[0]; ++e, ++k)
      pairs[2 * k] = b->cols[e], pairs[2 * k + 1] = b->lo + i; /* (v, u): is u in row v? */
  ER_AGREE(comm);
  ER_CALL(route(comm, b->N, pairs, ne, 2, &got, &ngot, NULL));
  for (int64_t k = 0; k < ngot; ++k) {
    int64_t v = got[2 * k], u = got[2 * k + 1], i = v - b->lo;
    const int64_t *row = b->cols + (b->indptr[i] - b->indptr[0]);
    ER_CHECK(er_search_i64(row, b->indptr[i + 1] - b->indptr[i], u) >= 0, ER_ERR_INPUT,
             "dataset '%s': %s is not symmetric: row %lld lists %lld but row %lld does not "
             "list %lld", file, ER_DS_INDICES, (long long)u, (long long)v, (long long)v,
             (long long)u);
  }
  ER_AGREE(comm); /* the rank that found the missing mate names it */
  err = ER_ERROR(ER_ERR_INPUT, "dataset '%s': %s is not symmetric", file, ER_DS_INDICES);
cleanup:
  err = ER_FINISH(comm);
  free(pairs);
  free(got);
  return err;
}

/* Each rank reads 1/P of each split and sends (id, position) to the id's block, which marks it
 * and checks that it is in range, new, in one split only, and labelled. */
static er_err read_splits(MPI_Comm comm, hid_t fid, er_dblock *b, digests *dg) {
  er_err err = ER_OK;
  int rank, size;
  int64_t *ids = NULL, *tuples = NULL, *got = NULL, ngot = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  for (int s = 0; s < 3; ++s) {
    int nd;
    int64_t dims[2], lo, hi;
    if (!er_h5_exists(fid, split_names[s])) continue; /* er_dataset_meta requires them */
    ER_CALL(er_h5_shape(fid, split_names[s], &nd, dims));
    er_block_range(dims[0], size, rank, &lo, &hi);
    ER_MALLOC(ids, hi - lo);
    ER_MALLOC(tuples, 2 * (hi - lo));
    ER_AGREE(comm);
    ER_CALL(er_h5_read_rows(fid, split_names[s], H5T_NATIVE_INT64, lo, hi - lo, ids));
    dg->part[DIG_SPLIT + s] = er_digest_rows(ids, sizeof *ids, lo, hi - lo);
    for (int64_t k = 0; k < hi - lo; ++k) {
      ER_CHECK(ids[k] >= 0 && ids[k] < b->N, ER_ERR_INPUT, "dataset '%s': %s: entry %lld is node "
               "%lld, outside [0, %lld)", dg->file, split_names[s], (long long)(lo + k),
               (long long)ids[k], (long long)b->N);
      tuples[2 * k] = ids[k], tuples[2 * k + 1] = lo + k;
    }
    ER_AGREE(comm);
    ER_CALL(route(comm, b->N, tuples, hi - lo, 2, &got, &ngot, NULL));
    for (int64_t k = 0; k < ngot; ++k) {
      int64_t v = got[2 * k], i = v - b->lo;
      uint8_t bit = (uint8_t)(1 << s);
      ER_CHECK(!(b->split[i] & bit), ER_ERR_INPUT, "dataset '%s': %s lists node %lld twice "
               "(again at entry %lld)", dg->file, split_names[s], (long long)v,
               (long long)got[2 * k + 1]);
      ER_CHECK(!b->split[i], ER_ERR_INPUT, "dataset '%s': node %lld is in %s and in %s",
               dg->file, (long long)v, split_names[b->split[i] & 1 ? 0 : b->split[i] & 2 ? 1 : 2],
               split_names[s]);
      ER_CHECK(b->labels[i] >= 0, ER_ERR_INPUT, "dataset '%s': node %lld of %s has no label",
               dg->file, (long long)v, split_names[s]);
      b->split[i] |= bit;
    }
    ER_FREE(ids);
    ER_FREE(tuples);
    ER_FREE(got);
  }
cleanup:
  err = ER_FINISH(comm);
  free(ids), free(tuples), free(got);
  return err;
}

er_err er_dblock_read(MPI_Comm comm, hid_t fid, const er_meta *meta, hid_t part_fid,
                      const char *part_name, int load_features, er_dblock *b) {
  er_err err = ER_OK;
  int rank, size;
  digests dg;
  uint64_t sums[2 + DIG_N] = {0}; /* symmetric hash sums, then the digests' parts */
  const int64_t N = meta->num_nodes, K = meta->num_classes, F = meta->num_features;
  const int64_t nnz = 2 * meta->num_edges;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  memset(b, 0, sizeof *b);
  memset(&dg, 0, sizeof dg);
  if (H5Fget_name(fid, dg.file, sizeof dg.file) < 0) snprintf(dg.file, sizeof dg.file, "?");
  b->N = N;
  int64_t hi;
  er_block_range(N, size, rank, &b->lo, &hi);
  b->n = hi - b->lo;
  ER_CALL(check_types(fid, part_fid, part_name, load_features, &dg));
  if (part_name) {
    int nd;
    int64_t dims[2];
    ER_CALL(er_h5_shape(part_fid, part_name, &nd, dims));
    ER_CHECK(nd == 1 && dims[0] == N, ER_ERR_INPUT, "partition '%s' has %lld entries, expected "
             "%lld", part_name, (long long)dims[0], (long long)N);
  }

  //---- the block of every array ----
  ER_MALLOC(b->indptr, b->n + 1);
  ER_MALLOC(b->labels, b->n);
  ER_CALLOC(b->split, b->n);
  ER_MALLOC(b->owner, b->n);
  if (load_features) ER_MALLOC(b->x, b->n * F);
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDPTR, H5T_NATIVE_INT64, b->lo, b->n + 1, b->indptr));
  /* indptr's rows are [lo, hi) on every rank and row N on the last */
  dg.part[DIG_INDPTR] = er_digest_rows(b->indptr, 8, b->lo, b->n + (rank == size - 1));
  int64_t e0 = b->indptr[0], ne = b->indptr[b->n] - e0;
  ER_CHECK(e0 >= 0 && ne >= 0 && e0 + ne <= nnz, ER_ERR_INPUT, "dataset '%s': %s is corrupt "
           "at rows [%lld, %lld] (offsets %lld..%lld outside [0, %lld])", dg.file, ER_DS_INDPTR,
           (long long)b->lo, (long long)hi, (long long)e0, (long long)(e0 + ne), (long long)nnz);
  ER_MALLOC(b->cols, ne);
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDICES, H5T_NATIVE_INT64, e0, ne, b->cols));
  dg.part[DIG_INDICES] = er_digest_rows(b->cols, 8, e0, ne);
  ER_CALL(er_h5_read_rows(fid, ER_DS_LABELS, H5T_NATIVE_INT32, b->lo, b->n, b->labels));
  dg.part[DIG_LABELS] = er_digest_rows(b->labels, 4, b->lo, b->n);
  if (load_features) {
    ER_CALL(er_h5_read_rows(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, b->lo, b->n, b->x));
    dg.part[DIG_FEATURES] = er_digest_rows(b->x, (size_t)F * 4, b->lo, b->n);
  }
  if (part_name) {
    ER_CALL(er_h5_read_rows(part_fid, part_name, H5T_NATIVE_INT32, b->lo, b->n, b->owner));
    dg.part[DIG_OWNER] = er_digest_rows(b->owner, 4, b->lo, b->n);
  } else {
    for (int64_t i = 0; i < b->n; ++i) b->owner[i] = er_block_owner(N, size, b->lo + i);
  }

  //---- what import guarantees for text ----
  err = check_rows(b, nnz, rank == size - 1, dg.file, sums);
  for (int64_t i = 0; i < b->n && err == ER_OK; ++i)
    if (b->labels[i] < -1 || b->labels[i] >= K)
      err = ER_ERROR(ER_ERR_INPUT, "dataset '%s': %s: node %lld has label %d outside [-1, %lld)",
                     dg.file, ER_DS_LABELS, (long long)(b->lo + i), b->labels[i], (long long)K);
  for (int64_t i = 0; i < b->n && err == ER_OK; ++i)
    if (b->owner[i] < 0 || b->owner[i] >= size)
      err = ER_ERROR(ER_ERR_INPUT, "partition '%s' assigns node %lld to part %d", part_name,
                     (long long)(b->lo + i), b->owner[i]);
  for (int64_t i = 0; load_features && i < b->n * F && err == ER_OK; ++i)
    if (!isfinite(b->x[i]))
      err = ER_ERROR(ER_ERR_INPUT, "dataset '%s': %s: node %lld, feature %lld is not finite",
                     dg.file, ER_DS_FEATURES, (long long)(b->lo + i / F), (long long)(i % F));
  ER_AGREE(comm);
  ER_CALL(read_splits(comm, fid, b, &dg));

  //---- one reduction: symmetry and every checksum ----
  memcpy(sums + 2, dg.part, sizeof dg.part);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2 + DIG_N, MPI_UINT64_T, MPI_SUM, comm));
  if (sums[0] != sums[1]) ER_CALL(name_asymmetry(comm, b, dg.file));
  for (int k = 0; k < DIG_N; ++k)
    ER_CHECK(!dg.has[k] || sums[2 + k] == (uint64_t)dg.want[k], ER_ERR_INPUT,
             "dataset '%s': %s is corrupted (checksum mismatch)",
             k == DIG_OWNER ? "partition" : dg.file, digest_name(k, part_name));
cleanup:
  err = ER_FINISH(comm);
  if (err != ER_OK) er_dblock_free(b);
  return err;
}
