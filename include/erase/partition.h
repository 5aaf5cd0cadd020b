/* partition.h: owner-rank assignment of nodes: computing it (METIS k-way on a graph gathered to
 * rank 0, PT-Scotch k-way on the graph distributed by row blocks, or contiguous blocks), and
 * storing it as /partitions/<P> in a sidecar file beside the dataset, which is never modified
 * (docs/FORMAT.md). Readers find /partitions/<P> in the dataset itself first (older files),
 * else in the sidecar. */
#ifndef ERASE_PARTITION_H
#define ERASE_PARTITION_H

#include <hdf5.h>

#include "erase/core.h"

typedef enum { ER_PART_METIS = 0, ER_PART_BLOCK = 1, ER_PART_PTSCOTCH = 2 } er_part_method;
/* What the partitioner minimizes: the edge cut, or (METIS only) the total communication
 * volume, which for our halo is exactly the total ghost count. */
typedef enum { ER_PART_OBJ_CUT = 0, ER_PART_OBJ_VOL = 1 } er_part_objective;
/* Vertex weights balanced across parts: none (node counts) or 1 + degree (rows + edges). */
typedef enum { ER_PART_WEIGHTS_NONE = 0, ER_PART_WEIGHTS_DEGREE = 1 } er_part_weights;

#define ER_PART_NCUTS_MAX 1000 /* the most partitionings one run computes (--ncuts) */

typedef struct {
  int parts;
  er_part_method method;
  er_part_objective objective;
  er_part_weights weights;
  uint64_t seed;
  /* partitionings computed, the best kept (METIS: METIS_OPTION_NCUTS, its objective decides;
   * PT-Scotch: try t is the partition of seed + 2t, the fewest total ghosts win, ties to the
   * lower t; the step is 2 because PT-Scotch seeds its generator from seed | 1, so seeds 2j
   * and 2j + 1 give the same partition). 1 .. ER_PART_NCUTS_MAX; 0 means 1. Block: 1 only. */
  int ncuts;
} er_part_opts;

typedef struct {
  int64_t edge_cut;       /* undirected edges whose endpoints lie in different parts */
  int64_t max_part_size;
  double mean_part_size;
  int64_t total_ghosts;   /* sum over parts of distinct off-part neighbours */
  int64_t max_ghosts;     /* the largest part's ghost count */
  double work_imbalance;  /* max over parts of (rows + CSR entries + ghosts) over the mean */
} er_part_stats;

/* Collective. Partition the dataset at path as opts says, store /partitions/<parts> in the
 * sidecar (er_partition_store) and print edge cut, part sizes, ghosts and work on rank 0. The
 * dataset is opened read-only. PT-Scotch runs on every rank of comm, each holding only its
 * row block; METIS runs on rank 0 with the whole graph. */
er_err er_partition_run(MPI_Comm comm, const char *path, const er_part_opts *opts,
                        er_part_stats *stats);
/* er_partition_run with the edge-cut objective and no vertex weights. */
er_err er_partition(MPI_Comm comm, const char *path, int parts, er_part_method method,
                    uint64_t seed, er_part_stats *stats);

/* Per-part shape of a partition, what memory and halo traffic depend on. Not collective.
 * nodes[p]: owned rows; nnz[p]: their CSR entries; ghosts[p]: distinct off-part neighbours
 * (rows received per forward exchange); sends[p]: distinct (owned row, other part) pairs with an
 * edge between them (rows sent per forward exchange). Arrays (P) are caller-allocated. */
er_err er_partition_profile(int64_t n, const int64_t *indptr, const int64_t *indices,
                            const int32_t *owner, int P, int64_t *nodes, int64_t *nnz,
                            int64_t *ghosts, int64_t *sends);

//---- the sidecar file (src/io/partfile.c) ----------------------------------------------------

/* The sidecar of a dataset: data_path with a trailing ".h5" replaced by ".partitions.h5", else
 * with ".partitions.h5" appended. ER_ERR_INPUT when it does not fit in len. Not collective. */
er_err er_partition_sidecar(const char *data_path, char *buf, size_t len);

/* What er_partition_store writes beside the owners, as attributes of /partitions/<parts>. */
typedef struct {
  int parts;
  int64_t n;           /* nodes: the length of the owner vector */
  const char *method;  /* "metis", "ptscotch", "block" */
  const char *objective, *weights;
  uint64_t seed;
  int ncuts;           /* partitionings computed, the best kept (er_part_opts) */
  int ranks;           /* ranks that computed it (PT-Scotch's result depends on them) */
  er_part_stats stats;
} er_part_record;

/* Collective. Store owner rows [row0, row0 + nrows) (this rank's share; the shares of all ranks
 * cover [0, n) exactly once) as /partitions/<rec->parts> in the sidecar of data_path: under an
 * exclusive lock on "<sidecar>.lock" (rank 0 holds it; the others wait), a new sidecar is
 * written under a temporary name with every other partition of the old one copied, then renamed
 * over it. A failure at any point leaves the old sidecar as it was; concurrent stores
 * serialize. The dataset is only read (its graph shape and `source` identify the sidecar). */
er_err er_partition_store(MPI_Comm comm, const char *data_path, const er_part_record *rec,
                          int64_t row0, int64_t nrows, const int32_t *owner);

/* Collective on the communicator data_fid was opened on (er_h5_file_comm). Find
 * /partitions/<parts>: in the dataset itself first, else in its sidecar (named from data_fid's
 * file name). *part_fid is data_fid, an open sidecar that the
 * caller releases with er_partition_release, or -1 when neither has it (not an error); name
 * (len >= 32) receives the dataset path inside *part_fid. A sidecar that describes another graph
 * (its node or edge count or source differs from the dataset's) is an ER_ERR_INPUT. */
er_err er_partition_locate(hid_t data_fid, int parts, hid_t *part_fid, char *name, size_t len);
/* Close *part_fid if it is a sidecar (not data_fid); sets it to -1. Collective like locate. */
void er_partition_release(hid_t data_fid, hid_t *part_fid);

/* Collective on comm (data_fid opened on it). Print on rank 0 the partitions stored in the
 * dataset and in its sidecar with their attributes, one "  P=<P> ..." line each; num_edges
 * (E, undirected) gives the edge cut as a share. */
er_err er_partition_list(MPI_Comm comm, hid_t data_fid, int64_t num_nodes, int64_t num_edges);

#endif
