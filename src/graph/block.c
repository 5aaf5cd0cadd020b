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

//---- buffer tables (erase/mem.h): (lvalue, elements, type, flags) ----------------------------

/* The block's arrays: rows first (rows of the block, F features read, 0 when none), then its
 * columns once indptr says how many (entries). */
#define DBLOCK_ROWS(X)                                                                       \
  X(b->indptr, rows + 1, int64_t, 0)                                                         \
  X(b->labels, rows, int32_t, 0)                                                             \
  X(b->split, rows, uint8_t, ER_BUF_ZERO)                                                    \
  X(b->owner, rows, int32_t, 0)                                                              \
  X(b->x, rows * F, float, ER_BUF_OPT)
#define DBLOCK_COLS(X) X(b->cols, entries, int64_t, 0)

/* Features are digested and checked for finiteness in chunks of about this many floats (128 KB:
 * the chunk is still in the core's L2 when the check reads it after the digest). */
#define FEATURE_CHUNK_FLOATS 32768

/* route(): counts of size ranks and n tuples of w values out (and the send order of the n);
 * total tuples of w values in; the plan kept for answering back (the send and receive counts
 * and the order, handed over from the send table) */
#define ROUTE_SEND(X)                                                                        \
  X(scnt, size, int, ER_BUF_ZERO)                                                            \
  X(sdsp, size, int, ER_BUF_ZERO)                                                            \
  X(rcnt, size, int, ER_BUF_ZERO)                                                            \
  X(rdsp, size, int, ER_BUF_ZERO)                                                            \
  X(fill, size, int, ER_BUF_ZERO)                                                            \
  X(sbuf, n * w, int64_t, 0)                                                                 \
  X(order, n, int64_t, 0)
#define ROUTE_RECV(X) X(*out, total * w, int64_t, 0)
#define ROUTE_PLAN(X)                                                                        \
  X(p->sent, size, int, 0)                                                                   \
  X(p->received, size, int, 0)                                                               \
  X(p->order, n, int64_t, 0)
/* er_dblock_owners(): the answers' displacements, nasked answered, n answers received */
#define OWNERS_ANSWER(X)                                                                     \
  X(sdsp, size, int, ER_BUF_ZERO)                                                            \
  X(rdsp, size, int, ER_BUF_ZERO)                                                            \
  X(answer, nasked, int32_t, 0)                                                              \
  X(got, n, int32_t, 0)
/* read_splits(): the k ids of one split this rank reads, as (id, position) tuples */
#define SPLIT_READ(X)                                                                        \
  X(ids, k, int64_t, 0)                                                                      \
  X(tuples, 2 * k, int64_t, 0)
/* name_asymmetry() (only after a failed symmetry check): every entry of the block reversed */
#define ASYMMETRY(X) X(pairs, 2 * ne, int64_t, 0)

void er_dblock_free(er_dblock *b) {
  DBLOCK_ROWS(ER_BUF_FREE)
  DBLOCK_COLS(ER_BUF_FREE)
  memset(b, 0, sizeof *b);
}

/* Who sent what in a route(), for the answers that go back: per rank counts of tuples sent and
 * received, and for the j-th tuple sent, its index in the caller's array. */
typedef struct {
  int *sent, *received; /* (size) */
  int64_t *order;       /* (n) */
} route_plan;

static void route_plan_free(route_plan *p) { ROUTE_PLAN(ER_BUF_FREE) }

static double route_bytes(int64_t size, int64_t n, int64_t w, int64_t total) {
  return 0 ROUTE_SEND(ER_BUF_BYTES) ROUTE_RECV(ER_BUF_BYTES);
}

double er_dblock_bytes(const er_mem_counts *c, int64_t F, int with_cols) {
  const int64_t rows = c->b, entries = c->be;
  return 0 DBLOCK_ROWS(ER_BUF_BYTES) + (with_cols ? 0 DBLOCK_COLS(ER_BUF_BYTES) : 0);
}

double er_dblock_read_extra(const er_mem_counts *c) {
  double most = 0;
  for (int s = 0; s < 3; ++s) { /* a rank reads 1/P of a split and receives as many on average */
    const int64_t k = (c->split[s] + c->P - 1) / c->P;
    double b = 0 SPLIT_READ(ER_BUF_BYTES);
    b += route_bytes(c->P, k, 2, k);
    if (b > most) most = b;
  }
  return most;
}

double er_dblock_owners_bytes(const er_mem_counts *c, int64_t n, int64_t nasked) {
  const int64_t size = c->P, w = 1, total = nasked;
  const double answering = (0 ROUTE_PLAN(ER_BUF_BYTES) ROUTE_RECV(ER_BUF_BYTES))
                           OWNERS_ANSWER(ER_BUF_BYTES);
  const double routing = route_bytes(size, n, w, total);
  return routing > answering ? routing : answering;
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

/* Collective. Every tuple (w int64, the first a node id in [0, N)) goes to the rank whose block
 * holds that node; *out (caller frees) receives the tuples sent to this rank, in source-rank
 * order. plan (may be NULL) is filled for answering back. */
static er_err route(MPI_Comm comm, int64_t N, const int64_t *tuples, int64_t n, int w,
                    int64_t **out, int64_t *n_out, route_plan *plan) {
  er_err err = ER_OK;
  int size;
  int *scnt = NULL, *sdsp = NULL, *rcnt = NULL, *rdsp = NULL, *fill = NULL;
  int64_t *sbuf = NULL, *order = NULL, total = 0;
  MPI_Datatype tuple = MPI_DATATYPE_NULL;
  MPI_Comm_size(comm, &size);
  *out = NULL;
  ROUTE_SEND(ER_BUF_ALLOC)
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
  for (int r = 0; r < size; ++r) rdsp[r] = (int)(total < INT32_MAX ? total : 0), total += rcnt[r];
  ER_CHECK(total < INT32_MAX, ER_ERR_INPUT, "a rank would receive %lld records in one exchange: "
           "run with more ranks", (long long)total);
  ROUTE_RECV(ER_BUF_ALLOC)
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
  if (err != ER_OK) ER_BUF_RELEASE(*out);
  ROUTE_SEND(ER_BUF_FREE)
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
  OWNERS_ANSWER(ER_BUF_ALLOC)
  for (int r = 1; r < size; ++r) {
    sdsp[r] = sdsp[r - 1] + plan.sent[r - 1];
    rdsp[r] = rdsp[r - 1] + plan.received[r - 1];
  }
  for (int64_t k = 0; k < nasked; ++k) answer[k] = b->owner[asked[k] - b->lo];
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Alltoallv(answer, plan.received, rdsp, MPI_INT32_T, got, plan.sent, sdsp,
                            MPI_INT32_T, comm));
  for (int64_t j = 0; j < n; ++j) owners[plan.order[j]] = got[j];
cleanup:
  err = ER_FINISH(comm);
  route_plan_free(&plan);
  OWNERS_ANSWER(ER_BUF_FREE)
  ER_BUF_RELEASE(asked);
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
  ASYMMETRY(ER_BUF_ALLOC)
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
  ASYMMETRY(ER_BUF_FREE)
  ER_BUF_RELEASE(got);
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
    const int64_t k = hi - lo;
    SPLIT_READ(ER_BUF_ALLOC)
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
    SPLIT_READ(ER_BUF_FREE)
    ER_BUF_RELEASE(got);
  }
cleanup:
  err = ER_FINISH(comm);
  SPLIT_READ(ER_BUF_FREE)
  ER_BUF_RELEASE(got);
  return err;
}

/* Adds the seconds since *t0 to *acc and restarts the clock. */
static void lap(double *acc, double *t0) {
  double now = er_wtime();
  *acc += now - *t0;
  *t0 = now;
}

er_err er_dblock_read(MPI_Comm comm, hid_t fid, const er_meta *meta, hid_t part_fid,
                      const char *part_name, int load_features, er_dblock *b) {
  er_err err = ER_OK;
  int rank, size;
  digests dg;
  enum { SUM_GRAPH = 2 + DIG_N, NSUM };
  uint64_t sums[NSUM] = {0}; /* symmetric hash sums, the digests' parts, the graph checksum */
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
  double t0 = er_wtime();
  ER_CALL(check_types(fid, part_fid, part_name, load_features, &dg));
  if (part_name) {
    int nd;
    int64_t dims[2];
    ER_CALL(er_h5_shape(part_fid, part_name, &nd, dims));
    ER_CHECK(nd == 1 && dims[0] == N, ER_ERR_INPUT, "partition '%s' has %lld entries, expected "
             "%lld", part_name, (long long)dims[0], (long long)N);
  }

  //---- the block of every array ----
  {
    const int64_t rows = b->n, F = load_features ? meta->num_features : 0;
    DBLOCK_ROWS(ER_BUF_ALLOC)
  }
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDPTR, H5T_NATIVE_INT64, b->lo, b->n + 1, b->indptr));
  lap(&b->read_s, &t0);
  /* indptr's rows are [lo, hi) on every rank and row N on the last */
  dg.part[DIG_INDPTR] = er_digest_rows(b->indptr, 8, b->lo, b->n + (rank == size - 1));
  lap(&b->digest_s, &t0);
  int64_t e0 = b->indptr[0], ne = b->indptr[b->n] - e0;
  ER_CHECK(e0 >= 0 && ne >= 0 && e0 + ne <= nnz, ER_ERR_INPUT, "dataset '%s': %s is corrupt "
           "at rows [%lld, %lld] (offsets %lld..%lld outside [0, %lld])", dg.file, ER_DS_INDPTR,
           (long long)b->lo, (long long)hi, (long long)e0, (long long)(e0 + ne), (long long)nnz);
  const int64_t entries = ne;
  DBLOCK_COLS(ER_BUF_ALLOC)
  ER_AGREE(comm);
  ER_CALL(er_h5_read_rows(fid, ER_DS_INDICES, H5T_NATIVE_INT64, e0, ne, b->cols));
  lap(&b->read_s, &t0);
  dg.part[DIG_INDICES] = er_digest_rows(b->cols, 8, e0, ne);
  lap(&b->digest_s, &t0);
  ER_CALL(er_h5_read_rows(fid, ER_DS_LABELS, H5T_NATIVE_INT32, b->lo, b->n, b->labels));
  lap(&b->read_s, &t0);
  dg.part[DIG_LABELS] = er_digest_rows(b->labels, 4, b->lo, b->n);
  lap(&b->digest_s, &t0);
  int64_t nonfinite = -1; /* the first entry of x that is not finite, reported below */
  if (load_features) {
    ER_CALL(er_h5_read_rows(fid, ER_DS_FEATURES, H5T_NATIVE_FLOAT, b->lo, b->n, b->x));
    lap(&b->read_s, &t0);
    /* digest and finiteness a chunk of rows at a time: the check reads the rows from the cache
     * the digest left them in, not from memory a second time */
    const int64_t chunk = F == 0 ? b->n + 1 : (FEATURE_CHUNK_FLOATS + F - 1) / F; /* >= 1 row */
    for (int64_t r = 0; r < b->n; r += chunk) {
      const int64_t nr = b->n - r < chunk ? b->n - r : chunk;
      const float *x = b->x + r * F;
      dg.part[DIG_FEATURES] += er_digest_rows(x, (size_t)F * 4, b->lo + r, nr);
      lap(&b->digest_s, &t0);
      int finite = 1;
      for (int64_t q = 0; q < nr * F; ++q) finite &= isfinite(x[q]) != 0;
      if (!finite && nonfinite < 0)
        for (int64_t q = 0; q < nr * F && nonfinite < 0; ++q)
          if (!isfinite(x[q])) nonfinite = r * F + q;
      lap(&b->check_s, &t0);
    }
  }
  if (part_name) {
    ER_CALL(er_h5_read_rows(part_fid, part_name, H5T_NATIVE_INT32, b->lo, b->n, b->owner));
    lap(&b->read_s, &t0);
    dg.part[DIG_OWNER] = er_digest_rows(b->owner, 4, b->lo, b->n);
    lap(&b->digest_s, &t0);
  } else {
    for (int64_t i = 0; i < b->n; ++i) b->owner[i] = er_block_owner(N, size, b->lo + i);
  }

  lap(&b->read_s, &t0);

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
  if (err == ER_OK && nonfinite >= 0)
    err = ER_ERROR(ER_ERR_INPUT, "dataset '%s': %s: node %lld, feature %lld is not finite",
                   dg.file, ER_DS_FEATURES, (long long)(b->lo + nonfinite / F),
                   (long long)(nonfinite % F));
  lap(&b->check_s, &t0);
  ER_AGREE(comm);
  /* the rows are well formed now (a corrupt indptr would have led the hash outside cols) */
  sums[SUM_GRAPH] = er_graph_rows_sum(b->lo, b->n, b->indptr, b->cols);
  lap(&b->digest_s, &t0);
  ER_CALL(read_splits(comm, fid, b, &dg)); /* small: counted as reading */
  lap(&b->read_s, &t0);

  //---- one reduction: symmetry and every checksum ----
  memcpy(sums + 2, dg.part, sizeof dg.part);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, NSUM, MPI_UINT64_T, MPI_SUM, comm));
  b->graph_sum = sums[SUM_GRAPH];
  if (sums[0] != sums[1]) ER_CALL(name_asymmetry(comm, b, dg.file));
  for (int k = 0; k < DIG_N; ++k)
    ER_CHECK(!dg.has[k] || sums[2 + k] == (uint64_t)dg.want[k], ER_ERR_INPUT,
             "dataset '%s': %s is corrupted (checksum mismatch)",
             k == DIG_OWNER ? "partition" : dg.file, digest_name(k, part_name));
  lap(&b->read_s, &t0); /* the reduction waits for the slowest rank: counted as reading */
cleanup:
  err = ER_FINISH(comm);
  if (err != ER_OK) er_dblock_free(b);
  return err;
}
