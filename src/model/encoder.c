/* encoder.c: the distributed GAT encoder: dropout -> GAT(H heads) -> LeakyReLU(0.01) -> L1 ->
 * GAT(1 head, d) -> L1 -> ReLU, wiring the rank-local kernels of nn.h to the halo. Owns the
 * parameter/gradient slabs and every activation buffer; allocates nothing per step. */
#include "erase/encoder.h"

#include <stdlib.h>
#include <string.h>

#include "erase/nn.h"

struct er_encoder {
  er_dgraph *g;
  er_lgraph lg;
  er_encoder_layout L;
  double dropout;
  const float *x0; /* (n_own, F) normalized features, not owned */
  float *params, *grads;
  int64_t n_own, n_tot;
  /* activations */
  float *xd;            /* (n_own, F) dropout output */
  const float *xin;     /* xd or x0: input of layer 1 in the last forward */
  float *h1, *o1, *a1;  /* (n_tot, hidden), (n_own, hidden) x2 */
  float *n1;            /* (n_own) L1 norms */
  float *h2, *o2, *zl;  /* (n_tot, embed), (n_own, embed) x2 */
  float *n2;            /* (n_own) */
  float *z;             /* (n_own, embed) output */
  /* backward scratch */
  float *dh1, *d1;      /* (n_tot, hidden), (n_own, hidden) */
  float *dh2, *d2;      /* (n_tot, embed), (n_own, embed) */
  er_gat_cache_f *c1, *c2;
};

const er_encoder_layout *er_encoder_get_layout(const er_encoder *e) { return &e->L; }
float *er_encoder_params(er_encoder *e) { return e->params; }
float *er_encoder_grads(er_encoder *e) { return e->grads; }
void er_encoder_zero_grads(er_encoder *e) {
  memset(e->grads, 0, (size_t)e->L.n_params * sizeof(float));
}

er_err er_encoder_create(er_dgraph *g, const float *x_norm, int64_t hidden, int64_t heads,
                         int64_t embed, double dropout, er_encoder **out) {
  er_err err = ER_OK;
  er_encoder *e = NULL;
  *out = NULL;
  ER_CHECK(hidden % heads == 0, ER_ERR_INPUT, "heads %lld do not divide hidden %lld",
           (long long)heads, (long long)hidden);
  ER_CALLOC(e, 1);
  e->g = g;
  e->x0 = x_norm;
  e->dropout = dropout;
  e->n_own = g->n_own;
  e->n_tot = (int64_t)g->n_own + g->n_ghost;
  e->lg = (er_lgraph){e->n_own, e->n_tot, g->indptr, g->indices};
  er_encoder_layout *L = &e->L;
  L->F = g->F, L->hidden = hidden, L->heads = heads, L->embed = embed;
  int64_t C1 = hidden / heads, o = 0;
  L->W1 = o, o += L->F * hidden;
  L->as1 = o, o += hidden; /* (heads, C1) */
  L->ad1 = o, o += hidden;
  L->b1 = o, o += hidden;
  L->W2 = o, o += hidden * embed;
  L->as2 = o, o += embed;
  L->ad2 = o, o += embed;
  L->b2 = o, o += embed;
  L->n_params = o;
  (void)C1;
  size_t no = (size_t)e->n_own, nt = (size_t)e->n_tot;
  ER_CALLOC(e->params, o);
  ER_CALLOC(e->grads, o);
  ER_MALLOC(e->xd, no * L->F);
  ER_CALLOC(e->h1, nt * hidden);
  ER_MALLOC(e->o1, no * hidden);
  ER_MALLOC(e->a1, no * hidden);
  ER_MALLOC(e->n1, no);
  ER_CALLOC(e->h2, nt * embed);
  ER_MALLOC(e->o2, no * embed);
  ER_MALLOC(e->zl, no * embed);
  ER_MALLOC(e->n2, no);
  ER_MALLOC(e->z, no * embed);
  ER_MALLOC(e->dh1, nt * hidden);
  ER_MALLOC(e->d1, no * hidden);
  ER_MALLOC(e->dh2, nt * embed);
  ER_MALLOC(e->d2, no * embed);
  ER_CALL(er_gat_cache_create_f(&e->lg, (int)heads, (int)(hidden / heads), &e->c1));
  ER_CALL(er_gat_cache_create_f(&e->lg, 1, (int)embed, &e->c2));
  *out = e;
  e = NULL;
cleanup:
  er_encoder_destroy(&e);
  return err;
}

void er_encoder_destroy(er_encoder **pe) {
  if (!pe || !*pe) return;
  er_encoder *e = *pe;
  free(e->params), free(e->grads), free(e->xd), free(e->h1), free(e->o1), free(e->a1);
  free(e->n1), free(e->h2), free(e->o2), free(e->zl), free(e->n2), free(e->z);
  free(e->dh1), free(e->d1), free(e->dh2), free(e->d2);
  er_gat_cache_destroy_f(&e->c1);
  er_gat_cache_destroy_f(&e->c2);
  free(e);
  *pe = NULL;
}

void er_encoder_init(er_encoder *e, uint64_t seed) {
  er_encoder_layout *L = &e->L;
  float *p = e->params;
  int64_t H = L->heads, C1 = L->hidden / L->heads;
  er_glorot_init_f(p + L->W1, seed, 1, L->F, L->hidden);
  er_glorot_init_f(p + L->as1, seed, 2, H, C1);
  er_glorot_init_f(p + L->ad1, seed, 3, H, C1);
  memset(p + L->b1, 0, (size_t)L->hidden * sizeof(float));
  er_glorot_init_f(p + L->W2, seed, 4, L->hidden, L->embed);
  er_glorot_init_f(p + L->as2, seed, 5, 1, L->embed);
  er_glorot_init_f(p + L->ad2, seed, 6, 1, L->embed);
  memset(p + L->b2, 0, (size_t)L->embed * sizeof(float));
}

/* GAT forward with the halo of h overlapped with interior rows. h's owned rows are filled. */
static er_err gat_forward(er_encoder *e, float *out, er_gat_cache_f *c, float *h,
                          const float *as, const float *ad, const float *b, int H, int C) {
  er_err err = ER_OK;
  er_dgraph *g = e->g;
  ER_CALL(er_halo_forward_begin(g->halo, h, H * C, MPI_FLOAT));
  ER_CALL(er_gat_scores_f(c, h, as, ad, 0, e->n_own, &e->lg, H, C));
  ER_CALL(er_gat_aggregate_f(out, c, h, b, g->row_order, g->n_interior, &e->lg, H, C));
  ER_CALL(er_halo_forward_end(g->halo));
  ER_CALL(er_gat_scores_f(c, h, as, ad, e->n_own, e->n_tot, &e->lg, H, C));
  ER_CALL(er_gat_aggregate_f(out, c, h, b, g->row_order + g->n_interior,
                             g->n_own - g->n_interior, &e->lg, H, C));
cleanup:
  return err;
}

/* GAT backward: dh (n_tot, H*C) zeroed here; ghost rows go back to owners by reverse halo
 * while the interior rows are processed. */
static er_err gat_backward(er_encoder *e, float *dh, float *das, float *dad, float *db,
                           const float *dout, const float *h, const float *as, const float *ad,
                           er_gat_cache_f *c, int H, int C) {
  er_err err = ER_OK;
  er_dgraph *g = e->g;
  memset(dh, 0, (size_t)e->n_tot * H * C * sizeof(float));
  ER_CALL(er_gat_backward_rows_f(dh, dad, db, dout, h, ad, c, g->row_order + g->n_interior,
                                 g->n_own - g->n_interior, &e->lg, H, C));
  ER_CALL(er_gat_backward_sources_f(dh, das, h, as, c, e->n_own, e->n_tot, &e->lg, H, C));
  ER_CALL(er_halo_reverse_begin(g->halo, dh, H * C, MPI_FLOAT));
  ER_CALL(er_gat_backward_rows_f(dh, dad, db, dout, h, ad, c, g->row_order, g->n_interior,
                                 &e->lg, H, C));
  ER_CALL(er_gat_backward_sources_f(dh, das, h, as, c, 0, e->n_own, &e->lg, H, C));
  ER_CALL(er_halo_reverse_end(g->halo));
cleanup:
  return err;
}

er_err er_encoder_forward(er_encoder *e, int train, uint64_t seed, int64_t step,
                          const float **Z) {
  er_err err = ER_OK;
  er_encoder_layout *L = &e->L;
  const float *p = e->params;
  int64_t n = e->n_own, H = L->heads, C1 = L->hidden / L->heads;
  if (train && e->dropout > 0) {
    ER_CALL(er_dropout_forward_f(e->xd, e->x0, seed, step, e->g->gid, e->dropout, n, L->F));
    e->xin = e->xd;
  } else {
    e->xin = e->x0;
  }
  //---- layer 1 ----
  ER_CALL(er_linear_forward_f(e->h1, e->xin, p + L->W1, n, L->F, L->hidden));
  ER_CALL(gat_forward(e, e->o1, e->c1, e->h1, p + L->as1, p + L->ad1, p + L->b1, (int)H, (int)C1));
  er_leakyrelu_forward_f(e->a1, e->o1, 0.01f, n * L->hidden);
  er_l1norm_forward_f(e->a1, e->n1, e->a1, n, L->hidden);
  //---- layer 2 ----
  ER_CALL(er_linear_forward_f(e->h2, e->a1, p + L->W2, n, L->hidden, L->embed));
  ER_CALL(gat_forward(e, e->o2, e->c2, e->h2, p + L->as2, p + L->ad2, p + L->b2, 1, (int)L->embed));
  er_l1norm_forward_f(e->zl, e->n2, e->o2, n, L->embed);
  er_relu_forward_f(e->z, e->zl, n * L->embed);
  *Z = e->z;
cleanup:
  return err;
}

er_err er_encoder_backward(er_encoder *e, const float *dZ) {
  er_err err = ER_OK;
  er_encoder_layout *L = &e->L;
  const float *p = e->params;
  float *gr = e->grads;
  int64_t n = e->n_own, H = L->heads, C1 = L->hidden / L->heads, d = L->embed;
  //---- layer 2 ----
  memset(e->d2, 0, (size_t)n * d * sizeof(float));
  er_relu_backward_f(e->d2, dZ, e->zl, n * d); /* d2 = dL/dzl */
  /* l1norm backward accumulates: reuse the output buffer o2 as dL/do2 */
  memset(e->o2, 0, (size_t)n * d * sizeof(float));
  er_l1norm_backward_f(e->o2, e->d2, e->zl, e->n2, n, d);
  ER_CALL(gat_backward(e, e->dh2, gr + L->as2, gr + L->ad2, gr + L->b2, e->o2, e->h2,
                       p + L->as2, p + L->ad2, e->c2, 1, (int)d));
  memset(e->d1, 0, (size_t)n * L->hidden * sizeof(float));
  ER_CALL(er_linear_backward_f(e->d1, gr + L->W2, e->dh2, e->a1, p + L->W2, n, L->hidden, d));
  //---- layer 1 ----
  /* d1 = dL/da1 -> dL/d(leaky out) into scratch, then through LeakyReLU into o1's gradient */
  float *dl = e->dh1; /* (n_own, hidden) fits in dh1 (n_tot, hidden) before its own use */
  memset(dl, 0, (size_t)n * L->hidden * sizeof(float));
  er_l1norm_backward_f(dl, e->d1, e->a1, e->n1, n, L->hidden);
  memset(e->d1, 0, (size_t)n * L->hidden * sizeof(float));
  er_leakyrelu_backward_f(e->d1, dl, e->o1, 0.01f, n * L->hidden);
  ER_CALL(gat_backward(e, e->dh1, gr + L->as1, gr + L->ad1, gr + L->b1, e->d1, e->h1,
                       p + L->as1, p + L->ad1, e->c1, (int)H, (int)C1));
  ER_CALL(er_linear_backward_f(NULL, gr + L->W1, e->dh1, e->xin, p + L->W1, n, L->F, L->hidden));
cleanup:
  return err;
}
