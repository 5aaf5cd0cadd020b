/* dataset.h: the one-HDF5-file graph dataset (layout in docs/FORMAT.md) and the commands that
 * make it: import from text, .npy or OGB files, generate a contextual or hierarchical SBM,
 * print info. All functions are collective on comm; bad input is agreed on by all ranks and no
 * output file is left behind. */
#ifndef ERASE_DATASET_H
#define ERASE_DATASET_H

#include <hdf5.h>

#include "erase/mem.h"

/* Dataset paths inside the file. */
#define ER_DS_INDPTR "/graph/indptr"   /* (N+1) int64 */
#define ER_DS_INDICES "/graph/indices" /* (2E) int64, sorted per row, symmetric */
#define ER_DS_FEATURES "/features"     /* (N, F) float32 */
#define ER_DS_LABELS "/labels"         /* (N) int32, -1 unknown */
#define ER_DS_TRAIN "/split/train"     /* int64 node ids */
#define ER_DS_VAL "/split/val"
#define ER_DS_TEST "/split/test"
#define ER_DS_PARTITIONS "/partitions" /* group of (N) int32 datasets named by P */

typedef struct {
  int64_t num_nodes, num_edges, num_features, num_classes;
  int64_t n_train, n_val, n_test;
} er_meta;

/* Collective. Read root attributes and split sizes; checks that the graph, features and
 * labels datasets exist with consistent shapes. */
er_err er_dataset_meta(MPI_Comm comm, hid_t fid, er_meta *meta);

/* Collective. Checksums of the graph (/graph/indptr + /graph/indices) and of /features that do
 * not depend on the rank count: each row is hashed with its global id and the row hashes are
 * summed mod 2^64. */
er_err er_dataset_checksum(MPI_Comm comm, hid_t fid, uint64_t *graph_sum, uint64_t *feature_sum);
/* The graph checksum's share of rows [row0, row0 + n): the sum of their row hashes, row i's
 * neighbours at cols[indptr[i - row0] - indptr[0] ...] (global ids, as stored). Summed over
 * blocks of rows that cover [0, N) once, it is er_dataset_checksum's graph_sum. */
uint64_t er_graph_rows_sum(int64_t row0, int64_t n, const int64_t *indptr, const int64_t *cols);

/* Inputs of import (formats in docs/FORMAT.md). Each input is text (possibly gzip-compressed)
 * or a NumPy .npy file, told apart by content. */
typedef struct {
  const char *dir;       /* default inputs: DIR/graph.edges ... or their .npy names; NULL: none */
  const char *ogb;       /* an OGB node-property dataset directory instead (raw/, split/NAME/) */
  const char *ogb_split; /* its split subdirectory NAME; NULL: the only one */
  const char *edges, *features, *labels, *train, *val, *test; /* input files (override dir) */
  const char *out;                                            /* output DATA.h5 */
  int64_t classes; /* K; 0 = max label + 1 */
} er_import_opts;

/* Collective: every rank reads about 1/P of every input (text files cut at line boundaries,
 * .npy slices, every P-th block of a gzip stream), sends what it read to the rank that owns
 * the nodes' block and writes its block of rows; the file is the same at any rank count.
 * Prints a summary on rank 0. */
er_err er_import(MPI_Comm comm, const er_import_opts *opts);

/* Generator models (docs/GENERATE.md). */
typedef enum {
  ER_GEN_CSBM = 0, /* contextual SBM: endpoints uniform inside a class, no locality */
  ER_GEN_HSBM = 1  /* hierarchical SBM: a balanced tree of blocks, endpoints mostly nearby */
} er_gen_model;

typedef struct {
  int64_t nodes;
  double avg_degree;
  int classes;
  int64_t features;
  double homophily;   /* fraction of edges whose endpoints share the class */
  double feature_snr; /* class-mean separation over unit Gaussian noise */
  int64_t train_per_class, val, test;
  uint64_t seed;
  const char *out;
  er_gen_model model; /* 0 = ER_GEN_CSBM; the fields below are read by ER_GEN_HSBM only */
  int levels;         /* tree depth L (branching^L leaf blocks); 0 = auto (leaves >= 128 nodes) */
  int branching;      /* b >= 2 */
  double escape;      /* R in [0, 1]: an endpoint leaves its level-l block w.p. R^(l+1) */
} er_generate_opts;

/* Collective: every rank generates its block of nodes; identical file for any rank count. */
er_err er_generate(MPI_Comm comm, const er_generate_opts *opts);

/* Collective: prints counts, splits, class histogram and partitions on rank 0. */
er_err er_info(MPI_Comm comm, const char *path);

#endif
