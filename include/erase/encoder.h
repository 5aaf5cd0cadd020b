/* encoder.h: the distributed 2-layer GAT encoder of ERASE.md section 3 on an er_dgraph:
 * parameters and gradients in one slab each, activations allocated once, forward/backward with
 * split-phase halo overlap of interior rows. The halo carries h1 = x W1 in layer 1 (not x) and
 * a1 in layer 2 (one head: it aggregates before its transform, so a1, not a1 W2, travels).
 * Collective on g->comm (halo). Gradients are rank-local sums: the caller Allreduces them.
 * Float (_f) trains; double (_d) serves the gradient checks. */
#ifndef ERASE_ENCODER_H
#define ERASE_ENCODER_H

#include "erase/graph.h"

typedef struct {
  int64_t F, hidden, heads, embed;
  /* offsets of the named views in the parameter slab */
  int64_t W1, as1, ad1, b1, W2, as2, ad2, b2, n_params;
} er_encoder_layout;

typedef struct er_encoder_f er_encoder_f;
typedef struct er_encoder_d er_encoder_d;

/* Collective (builds the GAT caches). x_norm (n_own, F) are the normalized input features,
 * kept as a pointer (the caller keeps them alive). The float encoder runs the first layer
 * sparse x dense when the features are sparse (density < 25%); the double one (gradient
 * checks) is always dense. gather_bf16 = 1 (float only; the double encoder refuses it with
 * ER_ERR_INPUT) keeps the rows the GAT passes gather and the halos carry in bf16 (nn.h, the
 * _bf16 kernels): h1, a1, the backward's dout of the gather pass and the ghost rows of dh; the
 * sums, parameters and gradients stay float. */
er_err er_encoder_create_f(er_dgraph *g, const float *x_norm, int64_t hidden, int64_t heads,
                           int64_t embed, double dropout, int gather_bf16, er_encoder_f **enc);
void er_encoder_destroy_f(er_encoder_f **enc);
const er_encoder_layout *er_encoder_layout_f(const er_encoder_f *enc);
float *er_encoder_params_f(er_encoder_f *enc); /* (n_params) */
float *er_encoder_grads_f(er_encoder_f *enc);  /* (n_params) */
/* An (n_own, embed) scratch the caller may fill with dZ between a forward and the backward
 * (the backward reads it before reusing the memory): saves one N x d buffer. */
float *er_encoder_dz_buffer_f(er_encoder_f *enc);
void er_encoder_zero_grads_f(er_encoder_f *enc);
/* Glorot weights, zero biases, from (seed, tensor id): independent of the rank count. */
void er_encoder_init_f(er_encoder_f *enc, uint64_t seed);
/* Forward modes: evaluation (no dropout, every row), training (dropout with mask (seed,
 * step)), evaluation at the rows planned by er_encoder_eval_rows (every row when none are). */
enum { ER_FWD_EVAL = 0, ER_FWD_TRAIN = 1, ER_FWD_EVAL_ROWS = 2 };
/* Collective. train is one of ER_FWD_*. *Z (n_own, embed) is a buffer of the encoder, valid
 * until the next forward; after ER_FWD_EVAL_ROWS only the planned rows of it are meaningful. */
er_err er_encoder_forward_f(er_encoder_f *enc, int train, uint64_t seed, int64_t step,
                            const float **Z);
/* Collective. Plans ER_FWD_EVAL_ROWS forwards that compute Z only at the owned rows with
 * want[i] != 0 (n_own flags), and only the part of the two GAT layers those rows read (their
 * two-hop neighbourhood, across ranks). The plan is kept only if the rows whose layer-1 output
 * is needed are at most max_fraction of all rows (*active = 1); otherwise such forwards
 * compute every row (*active = 0). Replaces any earlier plan. */
er_err er_encoder_eval_rows_f(er_encoder_f *enc, const uint8_t *want, double max_fraction,
                              int *active);
/* Frees the backward scratch (n_tot x hidden: the input gradient of both layers) for a phase
 * that only runs full evaluation forwards (writing outputs); afterwards backward returns an
 * error, ER_FWD_EVAL_ROWS forwards compute every row and er_encoder_eval_rows must not be
 * called. */
void er_encoder_release_backward_f(er_encoder_f *enc);
/* Collective. dZ (n_own, embed); accumulates rank-local parameter gradients (the caller sums
 * them over ranks). Uses the activations of the last forward. */
er_err er_encoder_backward_f(er_encoder_f *enc, const float *dZ);
/* Non-zeros of the layer-1 input when it is kept sparse, -1 when it is dense. */
int64_t er_encoder_input_nnz_f(const er_encoder_f *enc);
/* Cumulative seconds waited in the halos of evaluation plans (er_encoder_eval_rows), which
 * evaluation forwards use instead of the graph's halo. */
double er_encoder_halo_wait_f(const er_encoder_f *enc);
/* The layer-1 input of the last forward (after dropout) as a dense (n_own, F) matrix. */
void er_encoder_input_f(const er_encoder_f *enc, float *x);

/* Memory model (erase/mem.h) of the encoder's buffer tables on a rank with counts c: what it
 * keeps for its life (parameters, activations, GAT caches, the sparse input when the density
 * c->density selects it), its backward scratch (released before the outputs), its evaluation
 * row lists (c->sub) and what planning them holds, and the widest row its halo exchanges move
 * (bf16 gathers when c->gather_bf16, float only). */
typedef struct {
  double kept, scratch, eval_rows, eval_plan, halo_row;
  double n_params;
  int sparse; /* 1: layer 1 reads the input as CSR */
} er_encoder_mem;
void er_encoder_mem_f(const er_mem_counts *c, er_encoder_mem *m);
void er_encoder_mem_d(const er_mem_counts *c, er_encoder_mem *m);

er_err er_encoder_create_d(er_dgraph *g, const double *x_norm, int64_t hidden, int64_t heads,
                           int64_t embed, double dropout, int gather_bf16, er_encoder_d **enc);
void er_encoder_destroy_d(er_encoder_d **enc);
const er_encoder_layout *er_encoder_layout_d(const er_encoder_d *enc);
double *er_encoder_params_d(er_encoder_d *enc);
double *er_encoder_grads_d(er_encoder_d *enc);
double *er_encoder_dz_buffer_d(er_encoder_d *enc);
void er_encoder_zero_grads_d(er_encoder_d *enc);
void er_encoder_init_d(er_encoder_d *enc, uint64_t seed);
er_err er_encoder_forward_d(er_encoder_d *enc, int train, uint64_t seed, int64_t step,
                            const double **Z);
er_err er_encoder_backward_d(er_encoder_d *enc, const double *dZ);
er_err er_encoder_eval_rows_d(er_encoder_d *enc, const uint8_t *want, double max_fraction,
                              int *active);
void er_encoder_release_backward_d(er_encoder_d *enc);

#endif
