/* test_order.c: the reverse Cuthill-McKee order (er_order_rcm) on small graphs - a valid
 * permutation, a bandwidth no larger than the identity's on a banded graph whose rows were
 * shuffled, the same order whatever the row numbering when keys are given - and
 * er_dgraph_reorder on a generated graph (and Cora when present) at any rank count: every owned
 * row keeps its global neighbours, labels, split and features, ghosts stay grouped by owner,
 * row_order is interior-then-boundary, the rebuilt halo copies owners' values, and the tables
 * the reorder holds at its widest are what er_dgraph_reorder_bytes sums; and er_search_many_i64
 * (the graph's local numbering) answers as er_search_i64 does; and er_digest_rows gives the
 * digests stored files carry (known answers) and adds up over any split of the rows. */
#include <stdlib.h>
#include <string.h>

#include "erase/graph.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/rng.h"
#include "erase/sort.h"
#include "graph_common.h"

//---- er_digest_rows: the digests stored files carry ---------------------------------------------

/* Known answers: 11 rows of bytes (k * 131 + 7) mod 256 from row 1000003, at widths around the
 * 8-byte word and the 64-byte line. Every file erase-mpi has written carries digests of this
 * function: a change of these values is a change of the file format. */
static void check_digest(void) {
  static const struct {
    size_t width;
    uint64_t digest;
  } known[] = {
      {1, 0xaa13acb21d7ac2e1ULL},  {7, 0x5e9452d0a892c064ULL},   {8, 0x4879926e546ca757ULL},
      {9, 0x3a2b2d0cf90fac66ULL},  {64, 0x1c2f39d8adaabbd9ULL},  {65, 0x401674fa99b25da0ULL},
      {512, 0x78ef373e8262286fULL}, {517, 0xc70db79e9c332115ULL},
  };
  enum { NROWS = 11 };
  unsigned char *buf = malloc(NROWS * 517);
  for (size_t k = 0; k < NROWS * 517; ++k) buf[k] = (unsigned char)(k * 131 + 7);
  int bad = 0;
  for (size_t w = 0; w < sizeof known / sizeof known[0]; ++w) {
    const size_t rb = known[w].width;
    bad += er_digest_rows(buf, rb, 1000003, NROWS) != known[w].digest;
    /* parts of disjoint row sets add up, split anywhere */
    for (int64_t cut = 0; cut <= NROWS; ++cut)
      bad += er_digest_rows(buf, rb, 1000003, cut) +
                 er_digest_rows(buf + cut * rb, rb, 1000003 + cut, NROWS - cut) !=
             known[w].digest;
  }
  TEST_CHECK(bad == 0, "er_digest_rows differs from the stored digests in %d cases", bad);
  free(buf);
}

//---- er_search_many_i64 against er_search_i64 -----------------------------------------------

/* Keys: every third id from a random start, nk of them (ascending, unique); queries over a range
 * wider than the keys' (absent ones, repeats, a negative one), more than one chunk; out partly
 * filled beforehand (left as it is), with and without a map. */
static void check_search_many(int64_t nk, int64_t nq, uint64_t seed) {
  int64_t *keys = malloc((size_t)(nk + 1) * sizeof *keys), *q = malloc((size_t)(nq + 1) * sizeof *q);
  int32_t *map = malloc((size_t)(nk + 1) * sizeof *map), *out = malloc((size_t)(nq + 1) * sizeof *out);
  int64_t *scratch = malloc((size_t)(4 * er_search_many_chunk(nk, nq)) * sizeof *scratch);
  const int64_t span = 3 * nk + 10;
  for (int64_t i = 0; i < nk; ++i) keys[i] = 5 + 3 * i, map[i] = (int32_t)(7 * i + 1);
  for (int64_t i = 0; i < nq; ++i)
    q[i] = (int64_t)(er_rng_uniform(seed, 2, (uint64_t)i, 0) * (double)span) - (i == nq / 2);
  for (int pass = 0; pass < 2; ++pass) {
    const int32_t *m = pass ? map : NULL;
    for (int64_t i = 0; i < nq; ++i) out[i] = i % 5 == 0 ? -7 - (int32_t)(i % 3) : -1;
    for (int64_t i = 0; i < nq; ++i) if (i % 11 == 0) out[i] = 1000000 + (int32_t)i;
    er_search_many_i64(keys, nk, q, nq, m, out, scratch);
    int64_t bad = 0;
    for (int64_t i = 0; i < nq; ++i) {
      int32_t want = i % 11 == 0 ? 1000000 + (int32_t)i : (i % 5 == 0 ? -7 - (int32_t)(i % 3) : -1);
      int64_t p = er_search_i64(keys, nk, q[i]);
      if (i % 11 != 0 && p >= 0) want = m ? m[p] : (int32_t)p;
      bad += out[i] != want;
    }
    TEST_CHECK(bad == 0, "search_many (nk %lld, nq %lld, map %d): %lld answers differ from "
               "er_search_i64's", (long long)nk, (long long)nq, pass, (long long)bad);
  }
  free(keys), free(q), free(map), free(out), free(scratch);
}

//---- er_order_rcm on serial graphs ----------------------------------------------------------

/* A CSR from an edge list over n rows (both directions), rows sorted. */
typedef struct {
  er_lidx n;
  int64_t *indptr;
  er_lidx *indices;
} lcsr;

static int cmp_l(const void *a, const void *b) {
  er_lidx x = *(const er_lidx *)a, y = *(const er_lidx *)b;
  return (x > y) - (x < y);
}

static lcsr csr_from_edges(er_lidx n, const er_lidx *eu, const er_lidx *ev, int64_t m) {
  lcsr c = {n, calloc((size_t)n + 1, sizeof(int64_t)),
            malloc((size_t)(2 * m + 1) * sizeof(er_lidx))};
  int64_t *fill = calloc((size_t)n, sizeof(int64_t));
  for (int64_t k = 0; k < m; ++k) c.indptr[eu[k] + 1]++, c.indptr[ev[k] + 1]++;
  for (er_lidx i = 0; i < n; ++i) c.indptr[i + 1] += c.indptr[i];
  for (int64_t k = 0; k < m; ++k) {
    c.indices[c.indptr[eu[k]] + fill[eu[k]]++] = ev[k];
    c.indices[c.indptr[ev[k]] + fill[ev[k]]++] = eu[k];
  }
  for (er_lidx i = 0; i < n; ++i)
    qsort(c.indices + c.indptr[i], (size_t)(c.indptr[i + 1] - c.indptr[i]), sizeof(er_lidx),
          cmp_l);
  free(fill);
  return c;
}

static void csr_free(lcsr *c) { free(c->indptr), free(c->indices); }

static int is_permutation(const er_lidx *order, er_lidx n) {
  char *seen = calloc((size_t)n + 1, 1);
  int ok = 1;
  for (er_lidx k = 0; k < n && ok; ++k) {
    ok = order[k] >= 0 && order[k] < n && !seen[order[k]];
    if (ok) seen[order[k]] = 1;
  }
  free(seen);
  return ok;
}

/* where[order[k]] = k */
static er_lidx *positions(const er_lidx *order, er_lidx n) {
  er_lidx *w = malloc((size_t)n * sizeof *w);
  for (er_lidx k = 0; k < n; ++k) w[order[k]] = k;
  return w;
}

static void check_rcm_serial(void) {
  /* a banded graph (|i - j| <= 3 on a path order) in three components plus isolated rows, its
   * rows renumbered by a random permutation */
  const er_lidx n = 600, band = 3;
  er_lidx *perm = malloc(n * sizeof *perm), *eu = malloc(n * band * sizeof *eu);
  er_lidx *ev = malloc(n * band * sizeof *ev);
  for (er_lidx i = 0; i < n; ++i) perm[i] = i;
  for (er_lidx i = n - 1; i > 0; --i) { /* Fisher-Yates from the counter-based generator */
    er_lidx j = (er_lidx)(er_rng_uniform(5, 1, (uint64_t)i, 0) * (i + 1));
    if (j > i) j = i;
    er_lidx t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  int64_t m = 0;
  for (er_lidx i = 0; i < n - 10; ++i) /* components [0,200), [200,400), [400,590); 590.. alone */
    for (er_lidx d = 1; d <= band; ++d)
      if (i + d < n - 10 && (i + d) / 200 == i / 200) eu[m] = perm[i], ev[m] = perm[i + d], m++;
  lcsr c = csr_from_edges(n, eu, ev, m);
  int64_t *key = malloc(n * sizeof *key);
  for (er_lidx i = 0; i < n; ++i) key[i] = 1000 + 7 * (int64_t)i; /* distinct, not the row */
  er_lidx *order = malloc(n * sizeof *order), *again = malloc(n * sizeof *again);
  TEST_OK(er_order_rcm(n, c.indptr, c.indices, key, order));
  TEST_CHECK(is_permutation(order, n), "rcm order is not a permutation of %d rows", n);
  er_lidx *w = positions(order, n);
  int64_t bw_id = er_order_bandwidth(n, c.indptr, c.indices, NULL);
  int64_t bw_rcm = er_order_bandwidth(n, c.indptr, c.indices, w);
  printf("banded+shuffled: bandwidth identity %lld, rcm %lld (band %d)\n", (long long)bw_id,
         (long long)bw_rcm, band);
  TEST_CHECK(bw_rcm <= bw_id, "rcm bandwidth %lld > identity's %lld", (long long)bw_rcm,
             (long long)bw_id);
  TEST_CHECK(bw_rcm <= 2 * band, "rcm bandwidth %lld on a graph of band %d", (long long)bw_rcm,
             band);
  /* deterministic: the same call, the same order */
  TEST_OK(er_order_rcm(n, c.indptr, c.indices, key, again));
  TEST_CHECK(!memcmp(order, again, n * sizeof *order), "rcm order differs between two calls");
  /* independent of the row numbering: renumber the rows (row r -> n-1-r), keys travel along */
  {
    int64_t m2 = m;
    er_lidx *ru = malloc(m * sizeof *ru), *rv = malloc(m * sizeof *rv);
    int64_t *rkey = malloc(n * sizeof *rkey);
    for (int64_t k = 0; k < m2; ++k) ru[k] = n - 1 - eu[k], rv[k] = n - 1 - ev[k];
    for (er_lidx i = 0; i < n; ++i) rkey[n - 1 - i] = key[i];
    lcsr r = csr_from_edges(n, ru, rv, m2);
    TEST_OK(er_order_rcm(n, r.indptr, r.indices, rkey, again));
    int same = 1;
    for (er_lidx k = 0; k < n; ++k) same &= key[order[k]] == rkey[again[k]];
    TEST_CHECK(same, "rcm order depends on the row numbering, not only on the keys");
    csr_free(&r);
    free(ru), free(rv), free(rkey);
  }
  /* keys NULL: the row numbers break ties; still a permutation */
  TEST_OK(er_order_rcm(n, c.indptr, c.indices, NULL, again));
  TEST_CHECK(is_permutation(again, n), "rcm order (no keys) is not a permutation");
  /* columns beyond n (ghosts) are ignored; an empty graph and one row are fine */
  {
    er_lidx cols[] = {1, 5, 0, 7}; /* rows 0: {1, 5}, 1: {0, 7}; 5 and 7 are "ghosts" */
    int64_t ptr[] = {0, 2, 4};
    er_lidx o2[2];
    TEST_OK(er_order_rcm(2, ptr, cols, NULL, o2));
    TEST_CHECK(is_permutation(o2, 2), "two rows with ghosts: not a permutation");
    TEST_OK(er_order_rcm(0, ptr, cols, NULL, o2));
    int64_t one[] = {0, 0};
    TEST_OK(er_order_rcm(1, one, cols, NULL, o2));
    TEST_CHECK(o2[0] == 0, "one row: order %d", o2[0]);
  }
  csr_free(&c);
  free(perm), free(eu), free(ev), free(key), free(order), free(again), free(w);
}

//---- er_dgraph_reorder on a distributed graph ------------------------------------------------

static double val(int64_t gid, int c) { return er_rng_uniform(17, 3, (uint64_t)gid, (uint64_t)c); }

/* Row gid's global neighbours, sorted, into out (returns the count). */
static int64_t row_gids(const er_dgraph *g, er_lidx r, int64_t *out) {
  int64_t d = 0;
  for (int64_t k = g->indptr[r]; k < g->indptr[r + 1]; ++k) out[d++] = g->gid[g->indices[k]];
  er_sort_i64(out, d);
  return d;
}

static void check_reorder(const char *path, const char *partition, const char *label) {
  MPI_Comm comm = MPI_COMM_WORLD;
  hid_t fid;
  er_dgraph *a = NULL, *b = NULL;
  er_part_choice part;
  int rank;
  MPI_Comm_rank(comm, &rank);
  TEST_OK(er_part_choice_parse(partition, &part));
  TEST_OK(er_h5_open(comm, path, 0, &fid));
  TEST_OK(er_dgraph_create(comm, fid, part, 1, &a));
  TEST_OK(er_dgraph_create(comm, fid, part, 1, &b));
  er_h5_close(&fid);
  if (!a || !b) return;
  /* what the reorder holds at its widest is what the memory model's size function sums */
  er_mem_counts mc = {.n = b->n_own, .g = b->n_ghost, .e = b->indptr[b->n_own], .F = b->F};
  const double live = er_mem_table_bytes();
  er_mem_table_peak_reset();
  TEST_OK(er_dgraph_reorder(b, ER_ORDER_RCM));
  const double held = er_mem_table_peak() - live, want = er_dgraph_reorder_bytes(&mc);
  TEST_CHECK(held >= want && held <= want + 4096.0 * 12,
             "%s: the reorder held %.0f B of tables, er_dgraph_reorder_bytes says %.0f B", label,
             held, want);
  TEST_CHECK(b->order == ER_ORDER_RCM && a->order == ER_ORDER_NONE, "%s: order fields", label);
  TEST_CHECK(a->n_own == b->n_own && a->n_ghost == b->n_ghost &&
                 a->indptr[a->n_own] == b->indptr[b->n_own],
             "%s: sizes changed", label);
  const er_lidx n = a->n_own;
  const size_t most = (size_t)a->indptr[n] + 1;
  int64_t *ra = malloc(most * sizeof *ra), *rb = malloc(most * sizeof *rb);
  int bad_rows = 0, bad_data = 0, bad_cols = 0, moved = 0;
  for (er_lidx i = 0; i < n; ++i) {
    int64_t j = er_search_i64(a->gid, n, b->gid[i]); /* a's owned rows are ascending */
    if (j < 0) {
      bad_rows++;
      continue;
    }
    moved += j != i;
    int64_t da = row_gids(a, (er_lidx)j, ra), db = row_gids(b, i, rb);
    bad_rows += da != db || memcmp(ra, rb, (size_t)da * sizeof *ra);
    bad_data += a->labels[j] != b->labels[i] || a->split[j] != b->split[i] ||
                memcmp(a->x + j * a->F, b->x + (int64_t)i * b->F, (size_t)a->F * sizeof(float));
    for (int64_t k = b->indptr[i] + 1; k < b->indptr[i + 1]; ++k)
      bad_cols += b->indices[k - 1] >= b->indices[k];
  }
  TEST_CHECK(bad_rows == 0, "%s: %d owned rows lost their global neighbours", label, bad_rows);
  TEST_CHECK(bad_data == 0, "%s: %d rows' labels, split or features did not follow", label,
             bad_data);
  TEST_CHECK(bad_cols == 0, "%s: %d column pairs not ascending", label, bad_cols);
  /* ghosts: the same set, grouped by ascending owner */
  int bad_ghosts = 0;
  for (er_lidx k = 0; k < b->n_ghost; ++k) {
    int found = 0;
    for (er_lidx q = 0; q < a->n_ghost && !found; ++q)
      found = a->gid[n + q] == b->gid[n + k] && a->ghost_owner[q] == b->ghost_owner[k];
    bad_ghosts += !found || (k > 0 && b->ghost_owner[k - 1] > b->ghost_owner[k]);
  }
  TEST_CHECK(bad_ghosts == 0, "%s: %d ghosts lost or out of owner order", label, bad_ghosts);
  /* row_order: a permutation, interior rows touch no ghost, boundary rows do */
  int bad_order = 0;
  char *seen = calloc((size_t)n + 1, 1);
  for (er_lidx k = 0; k < n; ++k) {
    er_lidx r = b->row_order[k];
    if (r < 0 || r >= n || seen[r]) {
      bad_order++;
      continue;
    }
    seen[r] = 1;
    int ghost = 0;
    for (int64_t e = b->indptr[r]; e < b->indptr[r + 1]; ++e) ghost |= b->indices[e] >= n;
    bad_order += ghost != (k >= b->n_interior);
  }
  TEST_CHECK(bad_order == 0 && a->n_interior == b->n_interior, "%s: row_order wrong (%d rows; "
             "interior %d vs %d)", label, bad_order, b->n_interior, a->n_interior);
  /* the rebuilt halo: ghosts receive their owners' values */
  const size_t tot = (size_t)n + (size_t)b->n_ghost;
  double *x = malloc(tot * 2 * sizeof *x);
  for (size_t i = 0; i < tot; ++i)
    for (int c = 0; c < 2; ++c) x[i * 2 + c] = i < (size_t)n ? val(b->gid[i], c) : -1;
  TEST_OK(er_halo_forward_begin(b->halo, x, 2, MPI_DOUBLE));
  TEST_OK(er_halo_forward_end(b->halo));
  int bad_halo = 0;
  for (size_t i = (size_t)n; i < tot; ++i)
    for (int c = 0; c < 2; ++c) bad_halo += x[i * 2 + c] != val(b->gid[i], c);
  TEST_CHECK(bad_halo == 0, "%s: %d ghost values differ from their owners'", label, bad_halo);
  /* locality on the owned-owned edges: rcm's bandwidth is no larger than the built order's */
  int64_t bw[2] = {er_order_bandwidth(n, a->indptr, a->indices, NULL),
                   er_order_bandwidth(n, b->indptr, b->indices, NULL)};
  int64_t s[3] = {moved, bad_halo, 0}, t[3];
  MPI_Allreduce(s, t, 3, MPI_INT64_T, MPI_SUM, comm);
  if (rank == 0)
    printf("%s: rank 0 bandwidth %lld -> %lld; rows moved on all ranks %lld\n", label,
           (long long)bw[0], (long long)bw[1], (long long)t[0]);
  TEST_CHECK(bw[1] <= bw[0], "%s: rcm bandwidth %lld > built order's %lld", label,
             (long long)bw[1], (long long)bw[0]);
  free(ra), free(rb), free(seen), free(x);
  er_dgraph_destroy(&a);
  er_dgraph_destroy(&b);
}

int main(int argc, char **argv) {
  setenv("ERASE_MEM_REPORT", "1", 1); /* track the table rows (read at the first allocation) */
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank == 0) {
    check_rcm_serial();
    check_digest();
    check_search_many(0, 0, 1);
    check_search_many(0, 50, 2);
    check_search_many(50, 0, 3);
    check_search_many(1000, 300000, 4);  /* chunks of 65536 queries, keys walked per chunk */
    check_search_many(200000, 450000, 5); /* chunks of nk, ids past 2^19 (two radix digits) */
    check_search_many(300000, 1000, 6);   /* far more keys than queries: galloping */
  }
  char cora[4096], gen[4096];
  int have_cora = er_test_make_cora(cora, sizeof cora);
  er_test_make_generated(gen, sizeof gen, 2000);
  for (int k = 0; k < 2; ++k) {
    const char *path = k == 0 ? cora : gen;
    if (k == 0 && !have_cora) continue;
    TEST_OK(er_partition(MPI_COMM_WORLD, path, size, ER_PART_METIS, 1, NULL));
    char p[16];
    snprintf(p, sizeof p, "%d", size);
    check_reorder(path, p, k == 0 ? "cora/metis" : "gen/metis");
    check_reorder(path, "block", k == 0 ? "cora/block" : "gen/block");
  }
  if (!have_cora) printf("note: Cora absent, checked the generated graph only\n");
  return er_test_finish("test_order");
}
