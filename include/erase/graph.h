/* graph.h: a rank's share of the distributed graph: owned rows (CSR over local ids, ghosts
 * numbered after owned rows), their features, labels and split membership, the ghost owners
 * and the halo plan. Built collectively from the dataset and a partition. */
#ifndef ERASE_GRAPH_H
#define ERASE_GRAPH_H

#include <hdf5.h>

#include "erase/core.h"
#include "erase/halo.h"
#include "erase/mem.h"

enum { ER_SPLIT_TRAIN = 1, ER_SPLIT_VAL = 2, ER_SPLIT_TEST = 4 };

/* The order of a rank's local rows: as built (owned by ascending global id, ghosts by (owner,
 * gid)) or reverse Cuthill-McKee (er_dgraph_reorder). Names: er_order_kinds. */
typedef enum { ER_ORDER_NONE = 0, ER_ORDER_RCM = 1 } er_order_kind;
extern const er_enum_names er_order_kinds;

typedef struct {
  MPI_Comm comm;      /* not owned (not freed) */
  int64_t n_global;   /* N */
  int64_t e_global;   /* undirected edges */
  int K;              /* classes */
  int64_t F;          /* features */
  er_lidx n_own;      /* owned rows */
  er_lidx n_ghost;    /* ghost columns */
  int64_t *gid;       /* (n_own + n_ghost) global ids; as built owned ascending, ghosts by
                         (owner, gid); after er_dgraph_reorder in its order (ghosts still
                         grouped by owner) */
  int *ghost_owner;   /* (n_ghost) */
  int64_t *indptr;    /* (n_own + 1) */
  er_lidx *indices;   /* (indptr[n_own]) local column ids, ascending per row */
  float *x;           /* (n_own, F) raw features as stored */
  int32_t *labels;    /* (n_own) -1 unknown */
  uint8_t *split;     /* (n_own) ER_SPLIT_* bits */
  er_lidx n_interior; /* rows[0..n_interior) of row_order touch no ghost */
  er_lidx *row_order; /* (n_own) interior rows first, then boundary rows */
  er_halo *halo;
  char partition[64]; /* "block" or the partition name used */
  er_order_kind order; /* how the local rows are ordered (er_dgraph_reorder) */
  /* this rank's seconds: the whole er_dgraph_create, and in it the dataset checks (structure,
   * labels, splits, owners, finite features) and the checksums of the arrays read */
  double load_s, check_s, digest_s;
  uint64_t graph_sum; /* the dataset's graph checksum (er_dataset_checksum's graph_sum) */
  double order_s; /* this rank's seconds in er_dgraph_reorder */
} er_dgraph;

/* The row distribution a distributed graph is built with, resolved by the caller (for example
 * from a --partition option with er_part_choice_parse). */
typedef enum {
  ER_PART_CHOICE_AUTO = 0, /* /partitions/<ranks> if stored, else contiguous blocks (train first
                              makes and stores one with PT-Scotch) */
  ER_PART_CHOICE_BLOCK,    /* contiguous blocks of global ids (er_block_range) */
  ER_PART_CHOICE_STORED    /* /partitions/<parts>; it must exist and parts must equal the ranks */
} er_part_kind;
typedef struct {
  er_part_kind kind;
  int parts; /* ER_PART_CHOICE_STORED only */
} er_part_choice;

/* Not collective. text: NULL or "auto", "block", or a part count in [1, INT32_MAX]; anything
 * else is an ER_ERR_INPUT whose message names --partition. */
er_err er_part_choice_parse(const char *text, er_part_choice *choice);

/* Collective. Reads the rank's rows of the dataset distributed as part says, with their
 * features only when load_features != 0, and builds the halo plan. */
er_err er_dgraph_create(MPI_Comm comm, hid_t fid, er_part_choice part, int load_features,
                        er_dgraph **g);
void er_dgraph_destroy(er_dgraph **g);

/* Collective. Renumbers g's local rows in the order kind (ER_ORDER_NONE: unchanged): owned rows
 * by er_order_rcm on the owned-owned edges, keyed by global id; ghosts grouped by owner as
 * before and, within an owner, by the first owned row (new order) that references them, then
 * gid. Every per-row array of g (gid, indptr/indices, labels, split, x, row_order) follows and
 * the halo plan is rebuilt. Call it before anything else holds local row numbers. Holds
 * O(n_own + n_ghost + nnz) scratch while it runs. */
er_err er_dgraph_reorder(er_dgraph *g, er_order_kind kind);

/* Not collective. A reverse Cuthill-McKee order of rows [0, n) of a CSR (indptr (n + 1),
 * indices: columns; columns outside [0, n) and self loops are ignored): order[k] (n, the
 * caller's) is the row placed k-th. Each connected component starts at a pseudo-peripheral row
 * (George-Liu, from its first row by (degree, key)) and queues neighbours by (degree, key);
 * components come in the order of their smallest key. key (n) breaks every tie, so with
 * distinct keys (global ids) the order depends only on the graph and the keys, not on how the
 * rows are numbered; key NULL: the row number. */
er_err er_order_rcm(er_lidx n, const int64_t *indptr, const er_lidx *indices,
                    const int64_t *key, er_lidx *order);
/* Bytes of er_order_rcm's scratch for n rows (memory model). */
double er_order_rcm_bytes(int64_t n);
/* Not collective. The bandwidth max |where[i] - where[j]| over the entries (i, j) with both in
 * [0, n), where[i] = the position of row i (NULL: the identity). */
int64_t er_order_bandwidth(er_lidx n, const int64_t *indptr, const er_lidx *indices,
                           const er_lidx *where);

/* Collective. Rows of src (n_own, ncols) of element type t move to the contiguous block
 * distribution of global ids (er_block_range): dst receives rows [lo, hi) in global order, so
 * one contiguous parallel-HDF5 write stores them in the dataset's node order. */
er_err er_dgraph_rows_to_block(const er_dgraph *g, const void *src, int ncols, MPI_Datatype t,
                               void *dst);
/* Collective inverse: dst (n_own, ncols) receives the owned rows from block rows src. */
er_err er_dgraph_rows_from_block(const er_dgraph *g, const void *src, int ncols,
                                 MPI_Datatype t, void *dst);

/* Memory model (erase/mem.h) of the buffer tables of dgraph.c and block.c: the bytes a rank
 * holds for its built graph (features when features != 0; the halo plan without its packing
 * buffer), the most it holds at any step of er_dgraph_create (the dataset block read, the row
 * exchange, the ghost numbering, the halo plan), and the most er_dgraph_rows_to_block /
 * _from_block hold for rows of rb bytes. */
double er_dgraph_bytes(const er_mem_counts *c, int features);
double er_dgraph_create_peak(const er_mem_counts *c, int features);
/* Bytes er_dgraph_reorder (RCM) holds besides the graph at its widest: its scratch, the
 * renumbered CSR and er_order_rcm's scratch. */
double er_dgraph_reorder_bytes(const er_mem_counts *c);
double er_dgraph_block_move_bytes(const er_mem_counts *c, double rb);

/* Whole graph on one process (tests, references): CSR over global ids. */
typedef struct {
  int64_t n, nnz;
  int64_t *indptr;  /* (n+1) */
  int64_t *indices; /* (nnz) */
} er_csr;
/* Collective read of the full CSR on every rank. */
er_err er_csr_read(MPI_Comm comm, hid_t fid, er_csr *csr);
void er_csr_free(er_csr *csr);

#endif
