/* import_private.h: the state import's stages share (private to src/io): the resolved inputs,
 * the node count and this rank's block of nodes, the output file, the first input error.
 * import.c drives the stages; import_nodes.c (features, labels, splits) and import_graph.c
 * (edges -> CSR rows) implement them; ogb.c resolves the OGB directory layout. */
#ifndef ERASE_IO_IMPORT_PRIVATE_H
#define ERASE_IO_IMPORT_PRIVATE_H

#include <hdf5.h>

#include "erase/dataset.h"
#include "ingest.h"

enum { IMP_EDGES, IMP_FEATURES, IMP_LABELS, IMP_TRAIN, IMP_VAL, IMP_TEST, IMP_NODES, IMP_NFILES };
#define IMP_PATH 4096

typedef struct {
  MPI_Comm comm;
  int rank, size;
  int ogb;                             /* the inputs are the OGB CSV layout */
  char path[IMP_NFILES][IMP_PATH];     /* resolved inputs (IMP_NODES: OGB num-node-list) */
  int64_t classes;                     /* --classes K, 0 = max label + 1 */
  int64_t n, f, nclass;                /* N, F, K */
  int64_t lo, nloc;                    /* this rank's block of nodes: [lo, lo + nloc) */
  imp_owners_map owners;               /* whose block holds a node */
  const char *out;                     /* the output's path (--out) */
  hid_t fid;                           /* the output, open for collective writes */
  imp_first first;
  int32_t *labels;                     /* (nloc) this rank's labels, kept for the split checks */
  int64_t nsplit[3];
  int64_t entries, self_loops, duplicates, nnz; /* edges: read, dropped, CSR entries */
} imp_ctx;

/* Collective stages, in this order; each writes its datasets into c->fid. */
er_err imp_node_count(imp_ctx *c); /* OGB: N from num-node-list */
er_err imp_features(imp_ctx *c);   /* N (unless OGB), F, /features */
er_err imp_labels(imp_ctx *c);     /* K, /labels; keeps c->labels */
er_err imp_splits(imp_ctx *c);     /* /split/{train,val,test}, sorted */
er_err imp_edges(imp_ctx *c);      /* /graph/indptr, /graph/indices */

/* Not collective (rank 0 calls it): the OGB inputs of dir (split: the subdirectory of
 * dir/split, NULL for the only one) into c->path. */
er_err imp_ogb_paths(imp_ctx *c, const char *dir, const char *split);

/* Owner of each item for an exchange: the rank whose block holds node idx[i] / div. */
er_err imp_owners(const imp_ctx *c, const int64_t *idx, int64_t n, int64_t div, int **dest,
                  int64_t *cap);

#endif
