/* sort.h: sorting and searching global node ids (int64), shared by io/, graph/, halo/ and
 * partition/: ascending sort, binary search, the block that owns an id, and the sorted CSR rows
 * of a block of nodes built from an edge list. No I/O and no communication. */
#ifndef ERASE_SORT_H
#define ERASE_SORT_H

#include "erase/core.h"

/* Sort a[0..n) ascending (insertion sort for short arrays such as CSR rows, qsort beyond). */
void er_sort_i64(int64_t *a, int64_t n);

/* Position of key in the ascending a[0..n), or -1 if it is absent. */
int64_t er_search_i64(const int64_t *a, int64_t n, int64_t key);

/* Many searches at once: for every i with out[i] < 0, out[i] = map ? map[p] : p where p is the
 * position of q[i] in the ascending keys[0..nk) (out[i] stays as it is when q[i] is absent). The
 * queries are taken in chunks of er_search_many_chunk(nk, nq), each radix-sorted by value and
 * merged with the keys, so a key's cache lines are read once per chunk rather than once per
 * query. scratch holds 4 * er_search_many_chunk(nk, nq) elements. The same result as
 * er_search_i64 per query. Ids are >= 0. */
int64_t er_search_many_chunk(int64_t nk, int64_t nq);
void er_search_many_i64(const int64_t *keys, int64_t nk, const int64_t *q, int64_t nq,
                        const int32_t *map, int32_t *out, int64_t *scratch);

/* The rank r whose er_block_range(n, size, r) holds global id gid (0 <= gid < n). */
int er_block_owner(int64_t n, int size, int64_t gid);

/* What er_csr_block_build left out, counted in CSR entries (one per stored direction). */
typedef struct {
  int64_t self_loops; /* entries (u, u) */
  int64_t duplicates; /* entries already present in their row */
} er_csr_dropped;

/* Rows [lo, lo + nloc) of a graph over global ids, from an edge list: pair k, (u, v) =
 * (pairs[2k], pairs[2k+1]), puts v into row u when u lies in the block and, with mirror != 0,
 * also u into row v when v lies in the block. Every row ends ascending with no self loop and no
 * duplicate. *indptr (nloc + 1, starting at 0) and *indices (indptr[nloc]) are allocated here
 * and owned by the caller; dropped may be NULL. A serial whole-graph build is lo = 0,
 * nloc = N. Not collective. */
er_err er_csr_block_build(int64_t lo, int64_t nloc, const int64_t *pairs, int64_t npairs,
                          int mirror, int64_t **indptr, int64_t **indices,
                          er_csr_dropped *dropped);

#endif
