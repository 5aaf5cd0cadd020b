/* semantic.h: ERASE's per-epoch semantic labels (ERASE.md section 4): class prototypes from the
 * training rows grouped by argmax(Y_den), |cos| similarity of every row to every prototype,
 * Y = softmax(beta Y_den + (1-beta) S), T propagation steps, L = argmax. Collective. */
#ifndef ERASE_SEMANTIC_H
#define ERASE_SEMANTIC_H

#include "erase/graph.h"

typedef struct er_semantic er_semantic;

/* Yden (n_own, K, row stride K) is the denoised label matrix (kept, not copied). */
er_err er_semantic_create(er_dgraph *g, int K, int d, const double *Yden, double alpha,
                          double beta, int T, er_semantic **s);
void er_semantic_destroy(er_semantic **s);
/* Bytes of a handle on a rank with counts c (its buffer table, erase/mem.h). */
double er_semantic_bytes(const er_mem_counts *c);

/* Collective. Z (n_own, d) -> L (n_own) in [0, K). comm_s accumulates the seconds of the
 * prototype Allreduce; the propagation's halo waits are in the halo's statistics (the caller
 * counts those for the whole epoch). */
er_err er_semantic_labels(er_semantic *s, const float *Z, int32_t *L, double *comm_s);

/* Serial reference over the whole graph (tests). Z (n, d) double, Yden (n, K), is_train (n). */
void er_semantic_labels_ref(const er_csr *A, const double *Z, int d, const double *Yden,
                            const uint8_t *is_train, int K, double alpha, double beta, int T,
                            int32_t *L);

#endif
