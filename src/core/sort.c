/* sort.c: sorting and searching global node ids and the CSR rows of a block built from an edge
 * list (erase/sort.h). Results depend only on the values, never on the input order: any
 * caller that hands over the same pairs gets the same rows, bit for bit. */
#include "erase/sort.h"

#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

void er_sort_i64(int64_t *a, int64_t n) {
  if (n > 32) {
    qsort(a, (size_t)n, sizeof *a, cmp_i64);
    return;
  }
  for (int64_t i = 1; i < n; ++i) {
    int64_t x = a[i], j = i;
    while (j > 0 && a[j - 1] > x) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = x;
  }
}

int64_t er_search_i64(const int64_t *a, int64_t n, int64_t key) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return (lo < n && a[lo] == key) ? lo : -1;
}

int64_t er_search_many_chunk(int64_t nk, int64_t nq) {
  /* at least as many queries as keys: the merges read the keys at most once more than the
   * queries in all */
  const int64_t c = nk > ((int64_t)1 << 16) ? nk : ((int64_t)1 << 16);
  return c < nq ? c : (nq > 0 ? nq : 1);
}

/* Sort (*k, *ix)[0..m) by *k ascending (as unsigned, stable), least significant 11 bits first,
 * over the bits of the largest key; the result ends in *k and *ix (the pointers swap with the
 * scratch *tk and *ti). */
static void radix_pairs(int64_t **k, int64_t **ix, int64_t **tk, int64_t **ti, int64_t m) {
  enum { DIGIT = 11, BUCKETS = 1 << DIGIT };
  int64_t count[BUCKETS];
  uint64_t most = 0;
  for (int64_t i = 0; i < m; ++i) most |= (uint64_t)(*k)[i];
  for (int shift = 0; shift < 64 && (most >> shift) != 0; shift += DIGIT) {
    const int64_t *sk = *k, *si = *ix;
    int64_t *dk = *tk, *di = *ti;
    memset(count, 0, sizeof count);
    for (int64_t i = 0; i < m; ++i) count[((uint64_t)sk[i] >> shift) & (BUCKETS - 1)]++;
    for (int64_t d = 0, at = 0; d < BUCKETS; ++d) {
      const int64_t c = count[d];
      count[d] = at;
      at += c;
    }
    for (int64_t i = 0; i < m; ++i) {
      const int64_t at = count[((uint64_t)sk[i] >> shift) & (BUCKETS - 1)]++;
      dk[at] = sk[i];
      di[at] = si[i];
    }
    *tk = *k, *ti = *ix, *k = dk, *ix = di;
  }
}

void er_search_many_i64(const int64_t *keys, int64_t nk, const int64_t *q, int64_t nq,
                        const int32_t *map, int32_t *out, int64_t *scratch) {
  const int64_t chunk = er_search_many_chunk(nk, nq);
  for (int64_t at = 0; at < nq;) {
    int64_t *k = scratch, *ix = scratch + chunk, *tk = scratch + 2 * chunk,
            *ti = scratch + 3 * chunk, m = 0;
    for (; at < nq && m < chunk; ++at)
      if (out[at] < 0) k[m] = q[at], ix[m++] = at;
    radix_pairs(&k, &ix, &tk, &ti, m);
    /* both ascending: each key found by galloping on from the last one */
    int64_t p = 0;
    for (int64_t i = 0; i < m; ++i) {
      const int64_t v = k[i];
      if (p < nk && keys[p] < v) { /* keys[lo] < v <= keys[hi] (hi = nk: past the end) */
        int64_t lo = p, step = 1, hi;
        while (lo + step < nk && keys[lo + step] < v) lo += step, step *= 2;
        hi = lo + step < nk ? lo + step : nk;
        while (hi - lo > 1) {
          const int64_t mid = lo + (hi - lo) / 2;
          if (keys[mid] < v) lo = mid;
          else hi = mid;
        }
        p = hi;
      }
      if (p < nk && keys[p] == v) out[ix[i]] = map ? map[p] : (int32_t)p;
    }
  }
}

int er_block_owner(int64_t n, int size, int64_t gid) {
  int64_t q = n / size, r = n % size; /* the first r blocks hold q + 1 ids, the others q */
  return gid < r * (q + 1) ? (int)(gid / (q + 1)) : (int)(r + (gid - r * (q + 1)) / q);
}

er_err er_csr_block_build(int64_t lo, int64_t nloc, const int64_t *pairs, int64_t npairs,
                          int mirror, int64_t **indptr_out, int64_t **indices_out,
                          er_csr_dropped *dropped) {
  er_err err = ER_OK;
  int64_t *indptr = NULL, *cols = NULL, *fill = NULL;
  const int64_t hi = lo + nloc;
  er_csr_dropped drop = {0, 0};
  *indptr_out = *indices_out = NULL;

  //---- bucket the pairs by row -----------------------------------------------------------
  ER_CALLOC(indptr, nloc + 1);
  for (int64_t k = 0; k < npairs; ++k) {
    int64_t u = pairs[2 * k], v = pairs[2 * k + 1];
    if (u >= lo && u < hi) indptr[u - lo + 1]++;
    if (mirror && v >= lo && v < hi) indptr[v - lo + 1]++;
  }
  for (int64_t i = 0; i < nloc; ++i) indptr[i + 1] += indptr[i];
  ER_MALLOC(cols, indptr[nloc]);
  ER_MALLOC(fill, nloc);
  memcpy(fill, indptr, (size_t)nloc * sizeof *fill);
  for (int64_t k = 0; k < npairs; ++k) {
    int64_t u = pairs[2 * k], v = pairs[2 * k + 1];
    if (u >= lo && u < hi) cols[fill[u - lo]++] = v;
    if (mirror && v >= lo && v < hi) cols[fill[v - lo]++] = u;
  }

  //---- sort each row, drop self loops and duplicates, compact in place ---------------------
  int64_t kept = 0;
  for (int64_t i = 0; i < nloc; ++i) {
    int64_t b = indptr[i], e = indptr[i + 1];
    er_sort_i64(cols + b, e - b);
    indptr[i] = kept;
    for (int64_t q = b; q < e; ++q) {
      int64_t v = cols[q];
      if (v == lo + i) drop.self_loops++;
      else if (kept > indptr[i] && cols[kept - 1] == v) drop.duplicates++;
      else cols[kept++] = v;
    }
  }
  indptr[nloc] = kept;
  *indptr_out = indptr;
  *indices_out = cols;
  indptr = cols = NULL;
  if (dropped) *dropped = drop;
cleanup:
  free(indptr);
  free(cols);
  free(fill);
  return err;
}
