/* order.c: orders of a rank's rows that put graph neighbours near each other in memory
 * (reverse Cuthill-McKee over a local CSR), and the bandwidth that measures it. It renumbers
 * nothing itself (er_dgraph_reorder applies an order) and does no communication. */
#include <stdlib.h>
#include <string.h>

#include "erase/graph.h"

static const char *const order_names[] = {"none", "rcm"}; /* er_order_kind */
const er_enum_names er_order_kinds = ER_ENUM_NAMES(order_names);

typedef struct {
  int64_t key;
  er_lidx row;
} order_key;

/* er_order_rcm's scratch: (lvalue, elements, type, flags) over the n rows */
#define RCM_SCRATCH(X)                                                                       \
  X(deg, n, er_lidx, 0)                                                                      \
  X(seen, n, uint8_t, ER_BUF_ZERO)                                                           \
  X(by_key, n, order_key, 0)

double er_order_rcm_bytes(int64_t n) { return 0 RCM_SCRATCH(ER_BUF_BYTES); }

/* Row a comes before row b: smaller degree, then smaller key (the row itself without keys). */
static int rcm_before(const er_lidx *deg, const int64_t *key, er_lidx a, er_lidx b) {
  if (deg[a] != deg[b]) return deg[a] < deg[b];
  return key ? key[a] < key[b] : a < b;
}

/* Sort rows v[0..m) by rcm_before, in place (insertion sort for short runs, heapsort beyond:
 * no scratch and no quadratic case on a hub's neighbour list). */
static void rcm_sort(er_lidx *v, int64_t m, const er_lidx *deg, const int64_t *key) {
  if (m <= 16) {
    for (int64_t i = 1; i < m; ++i) {
      er_lidx x = v[i];
      int64_t j = i;
      for (; j > 0 && rcm_before(deg, key, x, v[j - 1]); --j) v[j] = v[j - 1];
      v[j] = x;
    }
    return;
  }
  for (int64_t end = m, start = m / 2; end > 1;) { /* heapify, then pop the largest to the end */
    if (start > 0) --start;
    else {
      --end;
      er_lidx t = v[end];
      v[end] = v[0];
      v[0] = t;
    }
    for (int64_t r = start, c; (c = 2 * r + 1) < end; r = c) {
      if (c + 1 < end && rcm_before(deg, key, v[c], v[c + 1])) ++c;
      if (!rcm_before(deg, key, v[r], v[c])) break;
      er_lidx t = v[r];
      v[r] = v[c];
      v[c] = t;
    }
  }
}

/* Breadth-first search from root over rows < n, into q (the rows reached, in visit order, marked
 * in seen); with sorted != 0 each row's newly reached neighbours are queued by rcm_before (the
 * Cuthill-McKee rule). Returns the rows reached; *levels their level count and *last the start
 * of the last level in q. */
static int64_t rcm_bfs(er_lidx n, const int64_t *indptr, const er_lidx *indices,
                       const er_lidx *deg, const int64_t *key, er_lidx root, int sorted,
                       er_lidx *q, uint8_t *seen, int64_t *levels, int64_t *last) {
  int64_t head = 0, tail = 0, level_end = 1;
  q[tail++] = root;
  seen[root] = 1;
  *levels = 1;
  *last = 0;
  while (head < tail) {
    if (head == level_end) { /* the level just finished; the next one starts here */
      *last = head;
      level_end = tail;
      ++*levels;
    }
    const er_lidx v = q[head++];
    const int64_t added = tail;
    for (int64_t k = indptr[v]; k < indptr[v + 1]; ++k) {
      const er_lidx c = indices[k];
      if (c < 0 || c >= n || seen[c]) continue;
      seen[c] = 1;
      q[tail++] = c;
    }
    if (sorted) rcm_sort(q + added, tail - added, deg, key);
  }
  return tail;
}

static void rcm_unmark(const er_lidx *q, int64_t m, uint8_t *seen) {
  for (int64_t k = 0; k < m; ++k) seen[q[k]] = 0;
}

/* The row of q[0..m) that comes first by rcm_before. */
static er_lidx rcm_first(const er_lidx *q, int64_t m, const er_lidx *deg, const int64_t *key) {
  er_lidx best = q[0];
  for (int64_t k = 1; k < m; ++k)
    if (rcm_before(deg, key, q[k], best)) best = q[k];
  return best;
}

static int cmp_order_key(const void *a, const void *b) {
  const order_key *x = a, *y = b;
  if (x->key != y->key) return (x->key > y->key) - (x->key < y->key);
  return (x->row > y->row) - (x->row < y->row);
}

er_err er_order_rcm(er_lidx n, const int64_t *indptr, const er_lidx *indices,
                    const int64_t *key, er_lidx *order) {
  er_err err = ER_OK;
  er_lidx *deg = NULL;
  uint8_t *seen = NULL;
  order_key *by_key = NULL;
  ER_CHECK(n >= 0 && (n == 0 || (indptr && order)), ER_ERR_INTERNAL, "er_order_rcm: bad input");
  RCM_SCRATCH(ER_BUF_ALLOC)
  for (er_lidx i = 0; i < n; ++i) {
    deg[i] = 0;
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k)
      deg[i] += indices[k] >= 0 && indices[k] < n && indices[k] != i;
    by_key[i] = (order_key){key ? key[i] : i, i};
  }
  qsort(by_key, (size_t)n, sizeof *by_key, cmp_order_key);
  /* components in the order of their smallest key; each is laid out at order[pos..) */
  int64_t pos = 0;
  for (er_lidx t = 0; t < n; ++t) {
    if (seen[by_key[t].row]) continue;
    er_lidx *q = order + pos;
    int64_t levels, last, m;
    m = rcm_bfs(n, indptr, indices, deg, key, by_key[t].row, 0, q, seen, &levels, &last);
    er_lidx start = rcm_first(q, m, deg, key);
    rcm_unmark(q, m, seen);
    /* pseudo-peripheral start (George and Liu): from the component's first row by (degree,
     * key), move to the first row of the last level while that deepens the level structure */
    rcm_bfs(n, indptr, indices, deg, key, start, 0, q, seen, &levels, &last);
    for (int tries = 0; tries < 32; ++tries) {
      er_lidx cand = rcm_first(q + last, m - last, deg, key);
      int64_t cand_levels, cand_last;
      rcm_unmark(q, m, seen);
      rcm_bfs(n, indptr, indices, deg, key, cand, 0, q, seen, &cand_levels, &cand_last);
      if (cand_levels <= levels) break;
      start = cand, levels = cand_levels, last = cand_last;
    }
    rcm_unmark(q, m, seen);
    rcm_bfs(n, indptr, indices, deg, key, start, 1, q, seen, &levels, &last);
    for (int64_t i = 0, j = m - 1; i < j; ++i, --j) { /* reversed: the "R" of RCM */
      er_lidx s = q[i];
      q[i] = q[j];
      q[j] = s;
    }
    pos += m;
  }
  ER_CHECK(pos == n, ER_ERR_INTERNAL, "er_order_rcm: %lld of %lld rows ordered", (long long)pos,
           (long long)n);
cleanup:
  RCM_SCRATCH(ER_BUF_FREE)
  return err;
}

int64_t er_order_bandwidth(er_lidx n, const int64_t *indptr, const er_lidx *indices,
                           const er_lidx *where) {
  int64_t most = 0;
  for (er_lidx i = 0; i < n; ++i)
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k) {
      const er_lidx c = indices[k];
      if (c < 0 || c >= n) continue;
      int64_t d = where ? (int64_t)where[i] - where[c] : (int64_t)i - c;
      if (d < 0) d = -d;
      if (d > most) most = d;
    }
  return most;
}
