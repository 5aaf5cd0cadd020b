/* estimate.h: the per-rank memory model of `erase-mpi train` (bytes per owned node, per
 * resident row (owned + ghost), per ghost, per local edge, per sent halo row, plus constants),
 * evaluated on a partition's per-part counts. benchmarks/RESULTS.md checks it against measured
 * peak RSS. Not collective. */
#ifndef ERASE_ESTIMATE_H
#define ERASE_ESTIMATE_H

#include "erase/core.h"

typedef struct {
  int64_t F, K, hidden, heads, embed;
  int sparse_input;   /* first layer runs sparse x dense */
  double feat_density;
} er_mem_shape;

typedef struct {
  double per_node, per_row, per_ghost, per_edge, per_send, per_feat_nnz, constant;
  /* writing --out: the backward scratch is freed (per resident row) and the embeddings are
   * redistributed and written through about three (owned rows x d) float copies (per node) */
  double out_release_per_row, out_per_node;
} er_mem_model;

void er_mem_model_make(const er_mem_shape *s, er_mem_model *m);
/* Predicted peak bytes of one rank holding n rows, g ghosts, e CSR entries, s sent rows, in
 * the two phases: training (every run) and writing --out (runs with outputs); a run's peak is
 * the larger of the two when it writes outputs. */
void er_mem_predict_phases(const er_mem_model *m, int64_t n, int64_t g, int64_t e, int64_t s,
                           double *train, double *out);

#endif
