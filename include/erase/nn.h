/* nn.h: rank-local layer kernels of the ERASE encoder (ERASE.md section 3): linear transform,
 * GAT attention aggregation (PyG GATConv semantics), LeakyReLU/ReLU, row L1 normalization,
 * dropout, Glorot init, input feature normalization; hand-written forward and backward, each in
 * float (_f, training) and double (_d, gradient checks), with plain _ref twins for the tests.
 * src/nn/nn_float.c and nn_double.c define them from the templates in src/nn. No MPI inside:
 * the caller does the halo exchanges (ghost rows of h before the GAT forward; ghost rows of dh
 * back to their owners after the GAT backward) and the reductions (global feature minimum,
 * gradient sums).
 *
 * Conventions (llm.c): outputs first, inputs const, sizes last; row-major arrays, shapes are
 * written beside every argument; every backward ACCUMULATES (+=) into its gradient outputs, so
 * the caller zeroes them once per step. Kernels that can reject their input return er_err
 * (ER_ERR_INPUT with a message; the error is rank-local, so the caller runs er_agree); purely
 * elementwise kernels return void. No kernel allocates except the *_create functions and the
 * _ref twins (which are for tests). */
#ifndef ERASE_NN_H
#define ERASE_NN_H

#include <stdint.h>

#include "erase/bf16.h"
#include "erase/core.h"

/* ---------------------------------------------------------------------------------------------
 * Rank-local graph view used by the GAT kernels. Row i (0 <= i < n_own) lists its neighbours j
 * in indices[indptr[i] .. indptr[i+1]); j indexes owned rows [0, n_own) then ghost rows
 * [n_own, n_tot). No self loops are stored (the GAT adds i -> i itself; a stored self loop is
 * rejected by er_gat_cache_create_*). Messages flow j -> i. The arrays are not owned. */
typedef struct {
  int64_t n_own, n_tot;
  const int64_t *indptr;  /* (n_own + 1), indptr[0] == 0 */
  const er_lidx *indices; /* (indptr[n_own]) */
} er_lgraph;

/* ---------------------------------------------------------------------------------------------
 * Linear transform without bias: h = x W.  x (n, fin), W (fin, fout), h (n, fout); cblas gemm.
 * Backward: dW (fin, fout) += x^T dh;  dx (n, fin) += dh W^T unless dx is NULL.
 * h must not alias x, nor dx dh. Fails (ER_ERR_INPUT) only when a size is negative or exceeds
 * the BLAS integer range. The _ref twins are triple loops with double accumulation. x is dense
 * here; a sparse first-layer input (bag-of-words features) goes through er_spmm_* (sparse.h). */
er_err er_linear_forward_f(float *h, const float *x, const float *W, int64_t n, int64_t fin,
                           int64_t fout);
er_err er_linear_backward_f(float *dx, float *dW, const float *dh, const float *x,
                            const float *W, int64_t n, int64_t fin, int64_t fout);
er_err er_linear_forward_d(double *h, const double *x, const double *W, int64_t n, int64_t fin,
                           int64_t fout);
er_err er_linear_backward_d(double *dx, double *dW, const double *dh, const double *x,
                            const double *W, int64_t n, int64_t fin, int64_t fout);
void er_linear_forward_ref_f(float *h, const float *x, const float *W, int64_t n, int64_t fin,
                             int64_t fout);
void er_linear_backward_ref_f(float *dx, float *dW, const float *dh, const float *x,
                              const float *W, int64_t n, int64_t fin, int64_t fout);
void er_linear_forward_ref_d(double *h, const double *x, const double *W, int64_t n,
                             int64_t fin, int64_t fout);
void er_linear_backward_ref_d(double *dx, double *dW, const double *dh, const double *x,
                              const double *W, int64_t n, int64_t fin, int64_t fout);

/* ---------------------------------------------------------------------------------------------
 * GAT attention aggregation (PyG GATConv, concat=True, negative_slope 0.2, no attention
 * dropout). H heads of width C; h (n_tot, H*C) is the linear output with its ghost rows already
 * filled; a_src, a_dst (H, C); bias (H*C) or NULL; out (n_own, H*C):
 *   s_src[j,k] = a_src[k] . h[j, kC:(k+1)C]  (all n_tot rows),  s_dst[i,k] = a_dst[k] . h[i, k]
 *   e_ijk = LeakyReLU_0.2(s_src[j,k] + s_dst[i,k])  for j in N(i) u {i}
 *   alpha_ijk = softmax_j(e_ijk)  (row max subtracted)
 *   out[i, k] = sum_j alpha_ijk h[j, k] + bias[k].
 * (PyG adds 1e-16 to the softmax denominator; omitted here: after the max shift it is >= 1.)
 * The cache holds s_src (n_tot, H), s_dst (n_own, H), alpha (n_own + nnz, H) and the backward
 * workspace (dal (n_own + nnz, H), ds_src (n_tot, H), the transposed edge lists: 12 B per
 * edge and 8 B per row); it is created once per graph shape (validates the graph: indptr
 * monotone, columns in [0, n_tot), no stored self loop) and checked against g, H, C at every
 * call.
 *
 * Alpha layout: row i's edge slots start at indptr[i] + i; slot indptr[i] + i is the self loop
 * i -> i, slot indptr[i] + i + 1 + t is the neighbour indices[indptr[i] + t]; each slot holds H
 * values (head fastest). */
typedef struct er_gat_cache_f er_gat_cache_f;
typedef struct er_gat_cache_d er_gat_cache_d;

er_err er_gat_cache_create_f(const er_lgraph *g, int H, int C, er_gat_cache_f **cache);
void er_gat_cache_destroy_f(er_gat_cache_f **cache);
const float *er_gat_cache_alpha_f(const er_gat_cache_f *cache); /* (n_own + nnz, H) */
er_err er_gat_cache_create_d(const er_lgraph *g, int H, int C, er_gat_cache_d **cache);
void er_gat_cache_destroy_d(er_gat_cache_d **cache);
const double *er_gat_cache_alpha_d(const er_gat_cache_d *cache);
/* Bytes of a cache for n_own rows, n_tot rows with ghosts, nnz stored edges, H heads of C
 * channels (its buffer table, erase/mem.h). */
double er_gat_cache_bytes_f(int64_t n_own, int64_t n_tot, int64_t nnz, int H, int C);
double er_gat_cache_bytes_d(int64_t n_own, int64_t n_tot, int64_t nnz, int H, int C);

/* Whole forward: er_gat_scores over rows [0, n_tot) then er_gat_aggregate over all owned rows. */
er_err er_gat_forward_f(float *out, er_gat_cache_f *cache, const float *h, const float *a_src,
                        const float *a_dst, const float *bias, const er_lgraph *g, int H, int C);
er_err er_gat_forward_d(double *out, er_gat_cache_d *cache, const double *h,
                        const double *a_src, const double *a_dst, const double *bias,
                        const er_lgraph *g, int H, int C);

/* Whole backward. dout (n_own, H*C). WRITES dh (n_tot, H*C) including ghost rows (the caller
 * reverse-exchanges them to their owners): dh's previous contents are ignored, no clearing
 * needed. Accumulates da_src, da_dst (H, C) and dbias (H*C, may be NULL). h, a_src, a_dst must
 * be the forward's inputs; the cache the forward's. */
er_err er_gat_backward_f(float *dh, float *da_src, float *da_dst, float *dbias,
                         const float *dout, const float *h, const float *a_src,
                         const float *a_dst, er_gat_cache_f *cache, const er_lgraph *g, int H,
                         int C);
er_err er_gat_backward_d(double *dh, double *da_src, double *da_dst, double *dbias,
                         const double *dout, const double *h, const double *a_src,
                         const double *a_dst, er_gat_cache_d *cache, const er_lgraph *g, int H,
                         int C);

/* Split-phase forms, to overlap the halo with interior rows (graph.h row_order):
 * Forward:  er_gat_scores(owned range) ; er_gat_aggregate(interior rows) ; [halo of h ends] ;
 *           er_gat_scores([n_own, n_tot)) ; er_gat_aggregate(boundary rows).
 *   er_gat_scores computes s_src for rows [lo, hi) and s_dst for rows in [lo, min(hi, n_own)).
 *   er_gat_aggregate computes out rows rows[0..n_rows) (rows == NULL: rows 0..n_rows-1); the
 *   row's own s_src and s_dst must be computed already. A neighbour's s_src it recomputes from
 *   the neighbour's row with a_src (bit for bit what er_gat_scores stores): the row is read for
 *   the weighted sum anyway, and a stored score would be one more random cache line per edge.
 * Backward: er_gat_backward_gather([0, n_tot)) ; er_gat_backward_rows(boundary rows) ;
 *           er_gat_backward_sources([n_own, n_tot)) ; [reverse halo of dh begins] ;
 *           er_gat_backward_rows(interior rows) ; er_gat_backward_sources([0, n_own)).
 *   er_gat_backward_gather WRITES dh rows [lo, hi) with the value path dh[j] = sum over the
 *   edges j -> i (self loop included) of alpha dout_i, and stores dal = dout_i . h_j of those
 *   edge slots in the cache (it gathers over transposed edge lists built at cache creation).
 *   er_gat_backward_rows does the per-target-row part from the stored dal (the softmax and
 *   LeakyReLU backward, dbias): it stores ds_dst of its rows and accumulates ds_src, both in the
 *   cache, and reads no row of h (the bf16 backward uses the float one); er_gat_backward_sources
 *   applies them for rows [lo, hi) (owned rows: dh[j] += ds_dst a_dst and da_dst; every row:
 *   dh[j] += ds_src a_src and da_src) and clears ds_src there: h and dh are read once per row
 *   after the gather. Order per backward: every row of [0, n_tot) through
 *   backward_gather, then every owned row through backward_rows exactly once (a row only after
 *   gather has written it and every row it references), then every row through
 *   backward_sources exactly once, each source row only after every target row that
 *   references it (owned sources: after all owned rows). */
er_err er_gat_scores_f(er_gat_cache_f *cache, const float *h, const float *a_src,
                       const float *a_dst, int64_t lo, int64_t hi, const er_lgraph *g, int H,
                       int C);
er_err er_gat_aggregate_f(float *out, er_gat_cache_f *cache, const float *h, const float *a_src,
                          const float *bias, const er_lidx *rows, int64_t n_rows,
                          const er_lgraph *g, int H, int C);
er_err er_gat_backward_gather_f(float *dh, const float *dout, const float *h,
                                er_gat_cache_f *cache, int64_t lo, int64_t hi,
                                const er_lgraph *g, int H, int C);
er_err er_gat_backward_rows_f(float *dbias, const float *dout, er_gat_cache_f *cache,
                              const er_lidx *rows, int64_t n_rows, const er_lgraph *g, int H,
                              int C);
er_err er_gat_backward_sources_f(float *dh, float *da_src, float *da_dst, const float *h,
                                 const float *a_src, const float *a_dst, er_gat_cache_f *cache,
                                 int64_t lo, int64_t hi, const er_lgraph *g, int H, int C);
er_err er_gat_scores_d(er_gat_cache_d *cache, const double *h, const double *a_src,
                       const double *a_dst, int64_t lo, int64_t hi, const er_lgraph *g, int H,
                       int C);
er_err er_gat_aggregate_d(double *out, er_gat_cache_d *cache, const double *h,
                          const double *a_src, const double *bias, const er_lidx *rows,
                          int64_t n_rows, const er_lgraph *g, int H, int C);
er_err er_gat_backward_gather_d(double *dh, const double *dout, const double *h,
                                er_gat_cache_d *cache, int64_t lo, int64_t hi,
                                const er_lgraph *g, int H, int C);
er_err er_gat_backward_rows_d(double *dbias, const double *dout, er_gat_cache_d *cache,
                              const er_lidx *rows, int64_t n_rows, const er_lgraph *g, int H,
                              int C);
er_err er_gat_backward_sources_d(double *dh, double *da_src, double *da_dst, const double *h,
                                 const double *a_src, const double *a_dst,
                                 er_gat_cache_d *cache, int64_t lo, int64_t hi,
                                 const er_lgraph *g, int H, int C);

/* Reference twins: literal per-edge loops straight from the formulas, double accumulation, no
 * cache (the backward recomputes the attention). They allocate temporaries (ER_ERR_MEM) and
 * validate the graph on every call. For tests only. */
er_err er_gat_forward_ref_f(float *out, const float *h, const float *a_src, const float *a_dst,
                            const float *bias, const er_lgraph *g, int H, int C);
er_err er_gat_backward_ref_f(float *dh, float *da_src, float *da_dst, float *dbias,
                             const float *dout, const float *h, const float *a_src,
                             const float *a_dst, const er_lgraph *g, int H, int C);
er_err er_gat_forward_ref_d(double *out, const double *h, const double *a_src,
                            const double *a_dst, const double *bias, const er_lgraph *g, int H,
                            int C);
er_err er_gat_backward_ref_d(double *dh, double *da_src, double *da_dst, double *dbias,
                             const double *dout, const double *h, const double *a_src,
                             const double *a_dst, const er_lgraph *g, int H, int C);

/* ---------------------------------------------------------------------------------------------
 * The GAT with bf16 rows (train --gather-precision bf16; float only): the same kernels, passes
 * and cache (er_gat_cache_f) as the _f forms above, but h (n_tot, H*C) is read as bf16
 * (erase/bf16.h) and widened in registers, so each gathered row costs half the bytes; every sum
 * stays in float (parameter gradients in double). The forward computes exactly what the float
 * forward computes on the widened rows, up to the order of the float sums. In the backward the
 * gather pass also reads dout as bf16 (doutb = bf16 of dout (n_own, H*C), made by the caller):
 * dh's value path sum alpha dout_i and dal = dout_i . h_j use the rounded dout; backward_rows
 * takes dout in float. dh, the gradients and their contracts are those of the _f forms; dh is
 * the gradient with respect to the widened rows (the rounding passes gradients straight
 * through). The _ref twins widen h and run the float _ref kernels (dout as given: equal to the
 * fast kernels when dout is representable in bf16). */
er_err er_gat_scores_bf16(er_gat_cache_f *cache, const er_bf16 *h, const float *a_src,
                          const float *a_dst, int64_t lo, int64_t hi, const er_lgraph *g, int H,
                          int C);
er_err er_gat_aggregate_bf16(float *out, er_gat_cache_f *cache, const er_bf16 *h,
                             const float *a_src, const float *bias, const er_lidx *rows,
                             int64_t n_rows, const er_lgraph *g, int H, int C);
er_err er_gat_forward_bf16(float *out, er_gat_cache_f *cache, const er_bf16 *h, const float *a_src,
                           const float *a_dst, const float *bias, const er_lgraph *g, int H, int C);
er_err er_gat_backward_gather_bf16(float *dh, const er_bf16 *doutb, const er_bf16 *h,
                                   er_gat_cache_f *cache, int64_t lo, int64_t hi,
                                   const er_lgraph *g, int H, int C);
er_err er_gat_backward_sources_bf16(float *dh, float *da_src, float *da_dst, const er_bf16 *h,
                                    const float *a_src, const float *a_dst,
                                    er_gat_cache_f *cache, int64_t lo, int64_t hi,
                                    const er_lgraph *g, int H, int C);
er_err er_gat_backward_bf16(float *dh, float *da_src, float *da_dst, float *dbias,
                            const float *dout, const er_bf16 *doutb, const er_bf16 *h,
                            const float *a_src, const float *a_dst, er_gat_cache_f *cache,
                            const er_lgraph *g, int H, int C);
er_err er_gat_forward_ref_bf16(float *out, const er_bf16 *h, const float *a_src,
                               const float *a_dst, const float *bias, const er_lgraph *g, int H,
                               int C);
er_err er_gat_backward_ref_bf16(float *dh, float *da_src, float *da_dst, float *dbias,
                                const float *dout, const er_bf16 *h, const float *a_src,
                                const float *a_dst, const er_lgraph *g, int H, int C);

/* ---------------------------------------------------------------------------------------------
 * Elementwise activations over n elements. y may alias x. The backward takes the forward
 * INPUT x (the forward output y works too: for slope > 0 it has the same sign) and accumulates
 * dx += dy * f'(x), with f'(x) = 1 for x > 0 and slope (LeakyReLU) or 0 (ReLU) for x <= 0
 * (PyTorch's convention at 0). */
void er_leakyrelu_forward_f(float *y, const float *x, float slope, int64_t n);
void er_leakyrelu_backward_f(float *dx, const float *dy, const float *x, float slope, int64_t n);
void er_relu_forward_f(float *y, const float *x, int64_t n);
void er_relu_backward_f(float *dx, const float *dy, const float *x, int64_t n);
void er_leakyrelu_forward_d(double *y, const double *x, double slope, int64_t n);
void er_leakyrelu_backward_d(double *dx, const double *dy, const double *x, double slope,
                             int64_t n);
void er_relu_forward_d(double *y, const double *x, int64_t n);
void er_relu_backward_d(double *dx, const double *dy, const double *x, int64_t n);

/* ---------------------------------------------------------------------------------------------
 * Row L1 normalization (torch F.normalize(p=1)): y_i = x_i / max(||x_i||_1, ER_L1_EPS).
 * x, y (n, F), y may alias x; norm (n) receives ||x_i||_1 (unclamped, the backward's cache).
 * Backward from the OUTPUT y: with s = max(norm_i, eps),
 *   norm_i >= eps:  dx_i += (dy_i - sign(y_i) (dy_i . y_i)) / s   (sign(0) = 0)
 *   norm_i <  eps:  dx_i += dy_i / eps                              (the clamp is constant) */
#define ER_L1_EPS 1e-12
void er_l1norm_forward_f(float *y, float *norm, const float *x, int64_t n, int64_t F);
void er_l1norm_backward_f(float *dx, const float *dy, const float *y, const float *norm,
                          int64_t n, int64_t F);
void er_l1norm_forward_d(double *y, double *norm, const double *x, int64_t n, int64_t F);
void er_l1norm_backward_d(double *dx, const double *dy, const double *y, const double *norm,
                          int64_t n, int64_t F);

/* ---------------------------------------------------------------------------------------------
 * Dropout with probability p in [0, 1) (else ER_ERR_INPUT). Element (i, f) of x (n, F) is kept
 * iff er_rng_uniform(seed, ER_STREAM_DROPOUT, gid[i], step * F + f) >= p and then scaled by
 * 1/(1-p): the mask depends only on (seed, step, global row id, column), never on the rank
 * count or the row order. gid (n) are the rows' global ids. y may alias x. The backward
 * recomputes the same mask (no mask storage): dx += dy * mask / (1-p). p is double in both
 * precisions so float and double masks are identical. */
er_err er_dropout_forward_f(float *y, const float *x, uint64_t seed, int64_t step,
                            const int64_t *gid, double p, int64_t n, int64_t F);
er_err er_dropout_backward_f(float *dx, const float *dy, uint64_t seed, int64_t step,
                             const int64_t *gid, double p, int64_t n, int64_t F);
er_err er_dropout_forward_d(double *y, const double *x, uint64_t seed, int64_t step,
                            const int64_t *gid, double p, int64_t n, int64_t F);
er_err er_dropout_backward_d(double *dx, const double *dy, uint64_t seed, int64_t step,
                             const int64_t *gid, double p, int64_t n, int64_t F);

/* ---------------------------------------------------------------------------------------------
 * Glorot-uniform init of a row-major (rows, cols) matrix, the way PyG's glorot() does it:
 * bound = sqrt(6 / (rows + cols)) (PyG: size(-2) + size(-1)), element (r, c) =
 * (2u - 1) * bound with u = er_rng_uniform(seed, ER_STREAM_INIT, tensor_id, r * cols + c)
 * (computed in double, then rounded). How the encoder maps its tensors:
 *   W (F_in, H*C)   -> rows = F_in, cols = H*C: the fan sum F_in + H*C equals PyG's for its
 *                      Linear weight (H*C, F_in); our W is that weight transposed.
 *   a_src, a_dst (H, C) -> rows = H, cols = C: PyG's att of shape (1, H, C) gives H + C.
 * Values are not bit-identical to PyTorch's generator (different random numbers), only the
 * distribution is. tensor_id names the tensor (distinct per layer and tensor). */
void er_glorot_init_f(float *w, uint64_t seed, uint64_t tensor_id, int64_t rows, int64_t cols);
void er_glorot_init_d(double *w, uint64_t seed, uint64_t tensor_id, int64_t rows, int64_t cols);

/* ---------------------------------------------------------------------------------------------
 * Input feature normalization (PyG NormalizeFeatures as ERASE.md section 3 states it):
 *   y[i, f] = (x[i, f] - gmin) / max(sum_f' (x[i, f'] - gmin), 1)
 * with gmin the GLOBAL minimum over all features of all nodes: the caller takes
 * er_features_min_* on its rows and reduces with MPI_Allreduce(MPI_MIN) (+INF when n*F == 0).
 * Row sums are accumulated in double. y may alias x. */
double er_features_min_f(const float *x, int64_t n, int64_t F);
double er_features_min_d(const double *x, int64_t n, int64_t F);
void er_normalize_features_f(float *y, const float *x, double gmin, int64_t n, int64_t F);
void er_normalize_features_d(double *y, const double *x, double gmin, int64_t n, int64_t F);

#endif
