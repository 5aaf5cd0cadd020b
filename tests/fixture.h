/* fixture.h: test datasets written directly in the dataset format (docs: dataset.h), without
 * going through import or generate, plus small graph generators (grid, seeded random).
 * Generated graphs are symmetric CSR over int64 ids, rows sorted, no self loops or duplicates. */
#ifndef ER_TEST_FIXTURE_H
#define ER_TEST_FIXTURE_H

#include <stdint.h>

#include "erase/core.h"
#include "erase/dataset.h"
#include "erase/graph.h"

/* Collective on comm; every rank passes the same full arrays. Writes path (through a
 * temporary name, renamed when complete) with /graph/indptr (n+1), /graph/indices
 * (indptr[n]), /features (n x F float32), /labels (n int32), /split/{train,val,test} (int64)
 * and the root attributes num_nodes, num_edges (= indptr[n] / 2), num_features, num_classes
 * and source ("test fixture"). F must be >= 1. NULL x writes zero features; NULL labels
 * writes -1 everywhere; a NULL split array must come with a count of 0 (empty dataset).
 * The CSR is written as given (not validated), so tests can also write broken graphs.
 * Each rank writes one block of rows of every dataset. */
er_err er_test_write_dataset(MPI_Comm comm, const char *path, int64_t n, const int64_t *indptr,
                             const int64_t *indices, int64_t F, const float *x,
                             const int32_t *labels, int K, const int64_t *train, int64_t ntrain,
                             const int64_t *val, int64_t nval, const int64_t *test,
                             int64_t ntest);

/* 4-neighbour grid of rows x cols nodes, node id r * cols + c. Allocates *indptr
 * (rows*cols + 1) and *indices (indptr[rows*cols]); the caller frees both with free().
 * On allocation failure both are set to NULL. */
void er_test_grid_graph(int64_t rows, int64_t cols, int64_t **indptr, int64_t **indices);

/* Random graph of n nodes from m undirected edge draws: draw i picks endpoints
 * er_rng_below(seed, ER_TEST_STREAM_GRAPH, i, 0/1, n); self loops and repeated pairs are
 * dropped, so the result has at most m edges. Independent of the caller's rank.
 * Allocates *indptr and *indices as er_test_grid_graph does (NULL on allocation failure). */
#define ER_TEST_STREAM_GRAPH 1000u
void er_test_random_graph(int64_t n, int64_t m, uint64_t seed, int64_t **indptr,
                          int64_t **indices);

/* Collective: er_generate(o) (o->out is the path), a METIS partition for the communicator's
 * size when it has more than one rank, then this rank's er_dgraph with features. */
er_err er_test_generated_graph(MPI_Comm comm, const er_generate_opts *o, er_dgraph **g);

#endif
