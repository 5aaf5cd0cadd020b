/* encoder.h: the distributed 2-layer GAT encoder of ERASE.md section 3 on an er_dgraph:
 * parameters and gradients in one slab each, activations allocated once, forward/backward with
 * the halo exchanged after the linear transforms (h = xW travels, not x) and split-phase overlap
 * of interior rows. Collective on g->comm (halo). Gradients are rank-local sums: the caller
 * Allreduces them. */
#ifndef ERASE_ENCODER_H
#define ERASE_ENCODER_H

#include "erase/graph.h"

typedef struct {
  int64_t F, hidden, heads, embed;
  /* offsets of the named views in the parameter slab */
  int64_t W1, as1, ad1, b1, W2, as2, ad2, b2, n_params;
} er_encoder_layout;

typedef struct er_encoder er_encoder;

/* Collective. x_norm (n_own, F) are the normalized input features (owned, copied? no: kept as a
 * pointer, caller keeps it alive). */
er_err er_encoder_create(er_dgraph *g, const float *x_norm, int64_t hidden, int64_t heads,
                         int64_t embed, double dropout, er_encoder **enc);
void er_encoder_destroy(er_encoder **enc);

const er_encoder_layout *er_encoder_get_layout(const er_encoder *enc);
float *er_encoder_params(er_encoder *enc); /* (n_params) */
float *er_encoder_grads(er_encoder *enc);  /* (n_params) */

/* Glorot weights, zero biases, from (seed, tensor id): independent of the rank count. */
void er_encoder_init(er_encoder *enc, uint64_t seed);

/* Collective. train != 0 applies dropout with mask (seed, step). Returns Z (n_own, embed), a
 * buffer owned by the encoder valid until the next forward. */
er_err er_encoder_forward(er_encoder *enc, int train, uint64_t seed, int64_t step,
                          const float **Z);
/* Collective. dZ (n_own, embed). Accumulates into the gradient slab (zero it first with
 * er_encoder_zero_grads). Uses the activations of the last forward. */
er_err er_encoder_backward(er_encoder *enc, const float *dZ);
void er_encoder_zero_grads(er_encoder *enc);

#endif
