/* block.h (private to src/graph): a rank's contiguous block of a dataset's rows, read, checked
 * and checksum-verified in one parallel pass, and the directory that answers "who owns node v"
 * from those blocks. Not the distributed graph itself: er_dgraph_create builds that from them. */
#ifndef ERASE_GRAPH_BLOCK_H
#define ERASE_GRAPH_BLOCK_H

#include <hdf5.h>

#include "erase/dataset.h"
#include "erase/graph.h"
#include "erase/mem.h"

typedef struct {
  int64_t N, lo, n;  /* the block: global ids [lo, lo + n) of N (er_block_range) */
  int64_t *indptr;   /* (n + 1) offsets into the global /graph/indices */
  int64_t *cols;     /* (indptr[n] - indptr[0]) neighbours, global ids */
  int32_t *labels;   /* (n) -1 unknown */
  uint8_t *split;    /* (n) ER_SPLIT_* bits */
  float *x;          /* (n, F) raw features, or NULL when they were not asked for */
  int32_t *owner;    /* (n) the rank that will own each row */
  double read_s, check_s, digest_s; /* this rank's seconds reading, checking, checksumming */
  uint64_t graph_sum; /* the dataset's graph checksum (er_dataset_checksum's), all ranks' blocks */
} er_dblock;

/* Collective. Reads the rank's block of every array of the dataset (features only when
 * load_features), the owners from the partition dataset part_name of part_fid (NULL: contiguous
 * blocks of the P ranks) and the splits (each rank reads 1/P of each split and sends every id
 * to the block that holds it). Checks what `import` guarantees for text input: CSR structure
 * (indptr from 0 to 2E, non-decreasing; neighbours in [0, N), strictly ascending, no self loop;
 * symmetric), finite features, labels in [-1, K), split ids in range, unique, disjoint and
 * labelled, owners in [0, P), integer/float element types; and, for every array that carries a
 * digest attribute (files erase-mpi wrote), its checksum. Also sums the graph checksum from the
 * rows as read (no second reading of the file). A violation is one ER_ERR_INPUT agreed
 * by all ranks, naming the file, the dataset and the entry. */
er_err er_dblock_read(MPI_Comm comm, hid_t fid, const er_meta *meta, hid_t part_fid,
                      const char *part_name, int load_features, er_dblock *b);
void er_dblock_free(er_dblock *b);

/* Collective. owners[k] = the owner rank of node ids[k] (any order, repeats allowed), asked of
 * the blocks that hold them: O(n) per rank, no array of N anywhere. */
er_err er_dblock_owners(MPI_Comm comm, const er_dblock *b, const int64_t *ids, int64_t n,
                        int32_t *owners);

/* Memory model (erase/mem.h) of the block's buffer tables: its arrays with F features (and its
 * columns when with_cols); the most er_dblock_read holds beyond them (one split routed); and
 * what er_dblock_owners holds for n questions asked and nasked answered. */
double er_dblock_bytes(const er_mem_counts *c, int64_t F, int with_cols);
double er_dblock_read_extra(const er_mem_counts *c);
double er_dblock_owners_bytes(const er_mem_counts *c, int64_t n, int64_t nasked);

#endif
