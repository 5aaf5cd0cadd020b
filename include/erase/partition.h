/* partition.h: owner-rank assignment of nodes, stored as /partitions/<P> in the dataset.
 * METIS k-way on a graph gathered to rank 0 (refuses graphs beyond METIS's 32-bit idx_t), or
 * contiguous blocks. Collective on comm. */
#ifndef ERASE_PARTITION_H
#define ERASE_PARTITION_H

#include "erase/core.h"

typedef enum { ER_PART_METIS = 0, ER_PART_BLOCK = 1 } er_part_method;

typedef struct {
  int64_t edge_cut;       /* undirected edges whose endpoints lie in different parts */
  int64_t max_part_size;
  double mean_part_size;
  int64_t total_ghosts;   /* sum over parts of distinct off-part neighbours */
} er_part_stats;

/* Collective. Partition the dataset at path into parts, write /partitions/<parts> (replacing
 * an existing one atomically) and print edge cut, part sizes and ghosts per part on rank 0. */
er_err er_partition(MPI_Comm comm, const char *path, int parts, er_part_method method,
                    uint64_t seed, er_part_stats *stats);

/* Per-part shape of a partition, what memory and halo traffic depend on. Not collective.
 * nodes[p]: owned rows; nnz[p]: their CSR entries; ghosts[p]: distinct off-part neighbours
 * (rows received per forward exchange); sends[p]: distinct (owned row, other part) pairs with an
 * edge between them (rows sent per forward exchange). Arrays (P) are caller-allocated. */
er_err er_partition_profile(int64_t n, const int64_t *indptr, const int64_t *indices,
                            const int32_t *owner, int P, int64_t *nodes, int64_t *nnz,
                            int64_t *ghosts, int64_t *sends);

#endif
