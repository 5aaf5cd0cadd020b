/* prop.h: label propagation over the distributed graph (ERASE.md sections 2 and 4), with plain
 * serial references over a whole CSR for the tests. Y matrices are (n_own + n_ghost, K)
 * row-major doubles; only owned rows are meaningful on return. Collective on g->comm. */
#ifndef ERASE_PROP_H
#define ERASE_PROP_H

#include "erase/graph.h"

typedef enum { ER_DENOISE_TRAIN_SUBGRAPH = 0, ER_DENOISE_GLOBAL = 1 } er_denoise_variant;
/* The names of the variants, index = er_denoise_variant: "train-subgraph", "global". */
extern const er_enum_names er_denoise_variants;

/* Denoising propagation. noisy: (n_own) class of each owned row (only training rows read;
 * -1 = no label). Y: (n_own + n_ghost, K) output; non-training rows are zero for
 * train-subgraph. */
er_err er_denoise(er_dgraph *g, const int32_t *noisy, int K, er_denoise_variant variant,
                  double alpha, int T, double *Y);
/* Bytes er_denoise holds while it runs on a rank with counts c (its buffer table, erase/mem.h). */
double er_denoise_bytes(const er_mem_counts *c);

/* Semantic propagation: T times Y <- (1-alpha) A D^-1 Y + alpha Y over the whole graph, in
 * place. Y (n_own + n_ghost, K); work is scratch of (2 n_own + n_ghost, K): nothing is
 * allocated per call. */
er_err er_propagate(er_dgraph *g, int K, double alpha, int T, double *Y, double *work);

/* Serial references over a whole graph (global ids). is_train (n), noisy (n), Y (n, K). */
void er_denoise_ref(const er_csr *A, const uint8_t *is_train, const int32_t *noisy, int K,
                    er_denoise_variant variant, double alpha, int T, double *Y);
void er_propagate_ref(const er_csr *A, int K, double alpha, int T, double *Y);

#endif
