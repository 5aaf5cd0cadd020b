/* encoder_template.h: the distributed GAT encoder, written once for float (training) and
 * double (gradient checks): dropout -> GAT(H heads) -> LeakyReLU(0.01) -> L1 -> GAT(1 head, d)
 * -> L1 -> ReLU, wiring the rank-local kernels of nn.h to the halo. Owns the parameter and
 * gradient slabs and every activation buffer; allocates nothing per step. Included by
 * encoder_f.c / encoder_d.c with REAL, ER_NN_SUFFIX, ER_MPI_REAL and ER_ENC_SPARSE defined. */

struct ER_T(er_encoder) {
  er_dgraph *g;
  er_lgraph lg;
  er_encoder_layout L;
  double dropout;
  const REAL *x0; /* (n_own, F) normalized features, not owned */
  int sparse;      /* 1: layer 1 input kept as CSR (xs0, with dropout xs) */
#if ER_ENC_SPARSE
  er_spmat xs0, xs;
  const er_spmat *xsin; /* xs0 or xs: the sparse input of the last forward */
#endif
  REAL *params, *grads;
  int64_t n_own, n_tot;
  /* activations */
  REAL *xd;            /* (n_own, F) dropout output */
  const REAL *xin;     /* xd or x0: input of layer 1 in the last forward */
  REAL *h1, *o1, *a1;  /* (n_tot, hidden), (n_own, hidden) x2 */
  REAL *n1;            /* (n_own) L1 norms */
  REAL *h2, *o2, *zl;  /* (n_tot, embed), (n_own, embed) x2; zl holds Z = ReLU(L1(o2)) */
  REAL *n2;            /* (n_own) */
  /* backward scratch */
  REAL *dh1, *d1;      /* (n_tot, hidden), (n_own, hidden) */
  REAL *dh2;           /* (n_tot, max(embed, hidden)), also dh1 */
  ER_T(er_gat_cache) *c1, *c2;
  /* evaluation on a row subset (er_encoder_eval_rows): owned rows in row_order order, interior
   * ones first; sub2 = rows whose Z is wanted, sub1 = rows whose layer-1 output (and h2) the
   * sub2 rows of any rank read. NULL when no subset is planned. */
  er_lidx *sub1, *sub2;
  int64_t n_sub1, n_sub1_int, n_sub2, n_sub2_int;
};

const er_encoder_layout *ER_T(er_encoder_layout)(const ER_T(er_encoder) *e) { return &e->L; }
REAL *ER_T(er_encoder_params)(ER_T(er_encoder) *e) { return e->params; }
REAL *ER_T(er_encoder_grads)(ER_T(er_encoder) *e) { return e->grads; }
REAL *ER_T(er_encoder_dz_buffer)(ER_T(er_encoder) *e) { return e->o2; }
void ER_T(er_encoder_zero_grads)(ER_T(er_encoder) *e) {
  memset(e->grads, 0, (size_t)e->L.n_params * sizeof(REAL));
}

er_err ER_T(er_encoder_create)(er_dgraph *g, const REAL *x_norm, int64_t hidden, int64_t heads,
                         int64_t embed, double dropout, ER_T(er_encoder) **out) {
  er_err err = ER_OK;
  ER_T(er_encoder) *e = NULL;
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
#if ER_ENC_SPARSE
  e->sparse = er_dense_density(x_norm, e->n_own, L->F) < ER_SPARSE_INPUT_DENSITY;
  if (e->sparse) {
    ER_CALL(er_spmat_from_dense(&e->xs0, x_norm, e->n_own, L->F));
    ER_CALL(er_spmat_from_dense(&e->xs, x_norm, e->n_own, L->F));
  }
#endif
  if (!e->sparse) ER_MALLOC(e->xd, no * L->F);
  ER_CALLOC(e->h1, nt * hidden);
  ER_MALLOC(e->a1, no * hidden);
  ER_MALLOC(e->n1, no);
  ER_CALLOC(e->h2, nt * embed);
  ER_MALLOC(e->o2, no * embed);
  ER_MALLOC(e->zl, no * embed);
  ER_MALLOC(e->n2, no);
  ER_MALLOC(e->d1, no * hidden);
  e->o1 = e->d1;  /* GAT-1 output lives only until the LeakyReLU; d1 is backward scratch */
  ER_MALLOC(e->dh2, nt * (embed > hidden ? embed : hidden)); /* also serves as dh1 */
  e->dh1 = e->dh2; /* dh2 is dead once layer 2's backward has produced d1 */
  ER_CALL(ER_T(er_gat_cache_create)(&e->lg, (int)heads, (int)(hidden / heads), &e->c1));
  ER_CALL(ER_T(er_gat_cache_create)(&e->lg, 1, (int)embed, &e->c2));
  *out = e;
  e = NULL;
cleanup:
  ER_T(er_encoder_destroy)(&e);
  return err;
}

void ER_T(er_encoder_destroy)(ER_T(er_encoder) **pe) {
  if (!pe || !*pe) return;
  ER_T(er_encoder) *e = *pe;
  free(e->params), free(e->grads), free(e->xd), free(e->h1), free(e->a1);
  free(e->n1), free(e->h2), free(e->o2), free(e->zl), free(e->n2);
  free(e->d1), free(e->dh2), free(e->sub1), free(e->sub2);
#if ER_ENC_SPARSE
  er_spmat_free(&e->xs0);
  er_spmat_free(&e->xs);
#endif
  ER_T(er_gat_cache_destroy)(&e->c1);
  ER_T(er_gat_cache_destroy)(&e->c2);
  free(e);
  *pe = NULL;
}

void ER_T(er_encoder_init)(ER_T(er_encoder) *e, uint64_t seed) {
  er_encoder_layout *L = &e->L;
  REAL *p = e->params;
  int64_t H = L->heads, C1 = L->hidden / L->heads;
  ER_T(er_glorot_init)(p + L->W1, seed, 1, L->F, L->hidden);
  ER_T(er_glorot_init)(p + L->as1, seed, 2, H, C1);
  ER_T(er_glorot_init)(p + L->ad1, seed, 3, H, C1);
  memset(p + L->b1, 0, (size_t)L->hidden * sizeof(REAL));
  ER_T(er_glorot_init)(p + L->W2, seed, 4, L->hidden, L->embed);
  ER_T(er_glorot_init)(p + L->as2, seed, 5, 1, L->embed);
  ER_T(er_glorot_init)(p + L->ad2, seed, 6, 1, L->embed);
  memset(p + L->b2, 0, (size_t)L->embed * sizeof(REAL));
}

/* Fused backward of Z = ReLU(y), y = x / max(|x|_1, eps), from Z alone (y is not kept):
 * where Z > 0, y = Z; elsewhere y <= 0 and dL/dy = 0, so dy . y = sum_{Z>0} dZ Z and
 * sign(y) = -1 (an exact y = 0 has measure zero). out may alias dZ. Equals er_relu_backward
 * followed by er_l1norm_backward; the whole-model gradient check covers it. */
static void ER_T(relu_l1_backward)(REAL *out, const REAL *dZ, const REAL *Z, const REAL *norm,
                                   int64_t n, int64_t d) {
  for (int64_t i = 0; i < n; ++i) {
    const REAL *z = Z + i * d, *g = dZ + i * d;
    REAL *o = out + i * d;
    double dot;
    ER_SUM8(dot, d, k, z[k] > 0 ? (double)g[k] * z[k] : 0.0);
    if (norm[i] < ER_L1_EPS) {
      for (int64_t k = 0; k < d; ++k) o[k] = z[k] > 0 ? (REAL)(g[k] / ER_L1_EPS) : 0;
      continue;
    }
    REAL inv = (REAL)(1.0 / norm[i]), dt = (REAL)dot;
    for (int64_t k = 0; k < d; ++k) o[k] = z[k] > 0 ? (g[k] - dt) * inv : dt * inv;
  }
}

/* GAT forward at the owned rows rows[0..n) (the first n_int of them interior) with the halo of
 * h overlapped with the interior rows. h's owned rows are filled. */
static er_err ER_T(gat_forward_rows)(ER_T(er_encoder) *e, REAL *out, ER_T(er_gat_cache) *c,
                                     REAL *h, const REAL *as, const REAL *ad, const REAL *b,
                                     int H, int C, const er_lidx *rows, int64_t n,
                                     int64_t n_int) {
  er_err err = ER_OK;
  er_dgraph *g = e->g;
  ER_CALL(er_halo_forward_begin(g->halo, h, H * C, ER_MPI_REAL));
  ER_CALL(ER_T(er_gat_scores)(c, h, as, ad, 0, e->n_own, &e->lg, H, C));
  ER_CALL(ER_T(er_gat_aggregate)(out, c, h, b, rows, n_int, &e->lg, H, C));
  ER_CALL(er_halo_forward_end(g->halo));
  ER_CALL(ER_T(er_gat_scores)(c, h, as, ad, e->n_own, e->n_tot, &e->lg, H, C));
  ER_CALL(ER_T(er_gat_aggregate)(out, c, h, b, rows + n_int, n - n_int, &e->lg, H, C));
cleanup:
  return err;
}

static er_err ER_T(gat_forward)(ER_T(er_encoder) *e, REAL *out, ER_T(er_gat_cache) *c, REAL *h,
                          const REAL *as, const REAL *ad, const REAL *b, int H, int C) {
  return ER_T(gat_forward_rows)(e, out, c, h, as, ad, b, H, C, e->g->row_order, e->n_own,
                                e->g->n_interior);
}

/* Marks of the owned rows that a flagged owned row is or links to, on any rank: flag rows and
 * their neighbours (ghosts too) in m (n_tot), then the reverse halo adds ghost marks into their
 * owners. Collective. */
static er_err ER_T(mark_neighbours)(ER_T(er_encoder) *e, REAL *m, const uint8_t *in,
                                    uint8_t *out) {
  er_err err = ER_OK;
  const er_dgraph *g = e->g;
  memset(m, 0, (size_t)e->n_tot * sizeof *m);
  for (int64_t i = 0; i < e->n_own; ++i)
    if (in[i]) {
      m[i] = 1;
      for (int64_t q = g->indptr[i]; q < g->indptr[i + 1]; ++q) m[g->indices[q]] = 1;
    }
  ER_CALL(er_halo_reverse_begin(g->halo, m, 1, ER_MPI_REAL));
  ER_CALL(er_halo_reverse_end(g->halo));
  for (int64_t i = 0; i < e->n_own; ++i) out[i] = m[i] > 0;
cleanup:
  return err;
}

/* The flagged owned rows as a list in row_order order (interior rows first). */
static er_err ER_T(row_list)(const ER_T(er_encoder) *e, const uint8_t *flag, er_lidx **list,
                             int64_t *n, int64_t *n_int) {
  er_err err = ER_OK;
  const er_dgraph *g = e->g;
  int64_t k = 0;
  for (int64_t i = 0; i < e->n_own; ++i) k += flag[i] != 0;
  ER_MALLOC(*list, k + 1);
  *n = *n_int = 0;
  for (int64_t r = 0; r < e->n_own; ++r) {
    er_lidx i = g->row_order[r];
    if (!flag[i]) continue;
    (*list)[(*n)++] = i;
    if (r < g->n_interior) ++*n_int;
  }
cleanup:
  return err;
}

er_err ER_T(er_encoder_eval_rows)(ER_T(er_encoder) *e, const uint8_t *want, double max_fraction,
                                  int *active) {
  er_err err = ER_OK;
  uint8_t *f2 = NULL, *f1 = NULL;
  int64_t cnt[2] = {0, e->n_own};
  free(e->sub1), free(e->sub2);
  e->sub1 = e->sub2 = NULL;
  *active = 0;
  f2 = malloc((size_t)e->n_own + 1);
  f1 = malloc((size_t)e->n_own + 1);
  err = f1 && f2 ? ER_OK : ER_ERROR(ER_ERR_MEM, "out of memory planning the evaluation rows");
  ER_CALL(er_agree(e->g->comm, err));
  for (int64_t i = 0; i < e->n_own; ++i) f2[i] = want[i] != 0;
  /* f1: rows whose layer-1 output (and h2) a wanted row's layer-2 aggregation reads */
  ER_CALL(ER_T(mark_neighbours)(e, e->dh2, f2, f1));
  for (int64_t i = 0; i < e->n_own; ++i) cnt[0] += f1[i];
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, cnt, 2, MPI_INT64_T, MPI_SUM, e->g->comm));
  if ((double)cnt[0] <= max_fraction * (double)cnt[1]) {
    err = ER_T(row_list)(e, f2, &e->sub2, &e->n_sub2, &e->n_sub2_int);
    if (err == ER_OK) err = ER_T(row_list)(e, f1, &e->sub1, &e->n_sub1, &e->n_sub1_int);
    ER_CALL(er_agree(e->g->comm, err));
    *active = 1;
  }
cleanup:
  if (err != ER_OK) {
    free(e->sub1), free(e->sub2);
    e->sub1 = e->sub2 = NULL;
    *active = 0;
  }
  free(f1), free(f2);
  return err;
}

/* Evaluation forward (no dropout) at the planned rows: layer 1's linear part everywhere (cheap,
 * and its halo needs it), GAT-1, activations and h2 = a1 W2 only at sub1, GAT-2 and the output
 * activations only at sub2. Other rows of every buffer keep stale values that no planned row
 * reads. Each computed row is what the full forward computes there (up to BLAS blocking). */
static er_err ER_T(forward_rows)(ER_T(er_encoder) *e) {
  er_err err = ER_OK;
  er_encoder_layout *L = &e->L;
  const REAL *p = e->params;
  int64_t H = L->heads, hid = L->hidden, d = L->embed, C1 = hid / H;
  ER_CALL(ER_T(gat_forward_rows)(e, e->o1, e->c1, e->h1, p + L->as1, p + L->ad1, p + L->b1,
                                 (int)H, (int)C1, e->sub1, e->n_sub1, e->n_sub1_int));
  for (int64_t r = 0; r < e->n_sub1; ++r) {
    int64_t i = e->sub1[r];
    ER_T(er_leakyrelu_forward)(e->a1 + i * hid, e->o1 + i * hid, (REAL)0.01, hid);
    ER_T(er_l1norm_forward)(e->a1 + i * hid, e->n1 + i, e->a1 + i * hid, 1, hid);
  }
  /* h2 rows through gathered chunks in the (idle) backward scratch dh2 */
  int64_t wide = d > hid ? d : hid, cap = e->n_tot * wide / (hid + d);
  if (cap > 4096) cap = 4096;
  REAL *tin = e->dh2, *tout = e->dh2 + cap * hid;
  for (int64_t s = 0; s < e->n_sub1; s += cap) {
    int64_t nr = e->n_sub1 - s < cap ? e->n_sub1 - s : cap;
    for (int64_t r = 0; r < nr; ++r)
      memcpy(tin + r * hid, e->a1 + (int64_t)e->sub1[s + r] * hid, (size_t)hid * sizeof(REAL));
    ER_CALL(ER_T(er_linear_forward)(tout, tin, p + L->W2, nr, hid, d));
    for (int64_t r = 0; r < nr; ++r)
      memcpy(e->h2 + (int64_t)e->sub1[s + r] * d, tout + r * d, (size_t)d * sizeof(REAL));
  }
  ER_CALL(ER_T(gat_forward_rows)(e, e->o2, e->c2, e->h2, p + L->as2, p + L->ad2, p + L->b2, 1,
                                 (int)d, e->sub2, e->n_sub2, e->n_sub2_int));
  for (int64_t r = 0; r < e->n_sub2; ++r) {
    int64_t i = e->sub2[r];
    ER_T(er_l1norm_forward)(e->zl + i * d, e->n2 + i, e->o2 + i * d, 1, d);
    ER_T(er_relu_forward)(e->zl + i * d, e->zl + i * d, d);
  }
cleanup:
  return err;
}

/* GAT backward: dh (n_tot, H*C) is written by the gather pass (no clearing). Ghost rows are
 * complete once the boundary rows and the ghost sources are done; they go back to their owners
 * by reverse halo while the interior rows and the owned sources are processed. */
static er_err ER_T(gat_backward)(ER_T(er_encoder) *e, REAL *dh, REAL *das, REAL *dad, REAL *db,
                           const REAL *dout, const REAL *h, const REAL *as, const REAL *ad,
                           ER_T(er_gat_cache) *c, int H, int C) {
  er_err err = ER_OK;
  er_dgraph *g = e->g;
  ER_CALL(ER_T(er_gat_backward_gather)(dh, dout, h, c, 0, e->n_tot, &e->lg, H, C));
  ER_CALL(ER_T(er_gat_backward_rows)(dh, dad, db, dout, h, ad, c, g->row_order + g->n_interior,
                                 g->n_own - g->n_interior, &e->lg, H, C));
  ER_CALL(ER_T(er_gat_backward_sources)(dh, das, h, as, c, e->n_own, e->n_tot, &e->lg, H, C));
  ER_CALL(er_halo_reverse_begin(g->halo, dh, H * C, ER_MPI_REAL));
  ER_CALL(ER_T(er_gat_backward_rows)(dh, dad, db, dout, h, ad, c, g->row_order, g->n_interior,
                                 &e->lg, H, C));
  ER_CALL(ER_T(er_gat_backward_sources)(dh, das, h, as, c, 0, e->n_own, &e->lg, H, C));
  ER_CALL(er_halo_reverse_end(g->halo));
cleanup:
  return err;
}

er_err ER_T(er_encoder_forward)(ER_T(er_encoder) *e, int train, uint64_t seed, int64_t step,
                          const REAL **Z) {
  er_err err = ER_OK;
  er_encoder_layout *L = &e->L;
  const REAL *p = e->params;
  int64_t n = e->n_own, H = L->heads, C1 = L->hidden / L->heads;
  //---- layer 1: dropout on the input, then h1 = x W1 (sparse or dense) ----
#if ER_ENC_SPARSE
  if (e->sparse) {
    e->xsin = &e->xs0;
    if (train == ER_FWD_TRAIN && e->dropout > 0) {
      ER_CALL(er_spmat_dropout(&e->xs, &e->xs0, seed, step, e->g->gid, e->dropout));
      e->xsin = &e->xs;
    }
    er_spmm_forward(e->h1, e->xsin, p + L->W1, L->hidden);
  }
#endif
  if (!e->sparse) {
    e->xin = e->x0;
    if (train == ER_FWD_TRAIN && e->dropout > 0) {
      ER_CALL(ER_T(er_dropout_forward)(e->xd, e->x0, seed, step, e->g->gid, e->dropout, n, L->F));
      e->xin = e->xd;
    }
    ER_CALL(ER_T(er_linear_forward)(e->h1, e->xin, p + L->W1, n, L->F, L->hidden));
  }
  if (train == ER_FWD_EVAL_ROWS && e->sub1) {
    ER_CALL(ER_T(forward_rows)(e));
    *Z = e->zl;
    goto cleanup;
  }
  ER_CALL(ER_T(gat_forward)(e, e->o1, e->c1, e->h1, p + L->as1, p + L->ad1, p + L->b1, (int)H, (int)C1));
  ER_T(er_leakyrelu_forward)(e->a1, e->o1, (REAL)0.01, n * L->hidden);
  ER_T(er_l1norm_forward)(e->a1, e->n1, e->a1, n, L->hidden);
  //---- layer 2 ----
  ER_CALL(ER_T(er_linear_forward)(e->h2, e->a1, p + L->W2, n, L->hidden, L->embed));
  ER_CALL(ER_T(gat_forward)(e, e->o2, e->c2, e->h2, p + L->as2, p + L->ad2, p + L->b2, 1, (int)L->embed));
  ER_T(er_l1norm_forward)(e->zl, e->n2, e->o2, n, L->embed);
  ER_T(er_relu_forward)(e->zl, e->zl, n * L->embed); /* Z = ReLU(zl) in place */
  *Z = e->zl;
cleanup:
  return err;
}

void ER_T(er_encoder_release_backward)(ER_T(er_encoder) *e) {
  free(e->dh2);
  e->dh2 = e->dh1 = NULL;
  free(e->sub1), free(e->sub2); /* the subset forward borrows dh2 as scratch */
  e->sub1 = e->sub2 = NULL;
}

er_err ER_T(er_encoder_backward)(ER_T(er_encoder) *e, const REAL *dZ) {
  er_err err = ER_OK;
  ER_CHECK(e->dh2 != NULL, ER_ERR_INTERNAL, "encoder backward after its scratch was released");
  er_encoder_layout *L = &e->L;
  const REAL *p = e->params;
  REAL *gr = e->grads;
  int64_t n = e->n_own, H = L->heads, C1 = L->hidden / L->heads, d = L->embed;
  //---- layer 2 ----
  /* dL/do2 into o2 (which may hold dZ itself) through ReLU and the row L1 normalization */
  ER_T(relu_l1_backward)(e->o2, dZ, e->zl, e->n2, n, d);
  ER_CALL(ER_T(gat_backward)(e, e->dh2, gr + L->as2, gr + L->ad2, gr + L->b2, e->o2, e->h2,
                       p + L->as2, p + L->ad2, e->c2, 1, (int)d));
  memset(e->d1, 0, (size_t)n * L->hidden * sizeof(REAL));
  ER_CALL(ER_T(er_linear_backward)(e->d1, gr + L->W2, e->dh2, e->a1, p + L->W2, n, L->hidden, d));
  //---- layer 1 ----
  /* d1 = dL/da1 -> dL/d(leaky out) into scratch, then through LeakyReLU into o1's gradient */
  REAL *dl = e->dh1; /* (n_own, hidden) fits in dh1 (n_tot, hidden) before its own use */
  memset(dl, 0, (size_t)n * L->hidden * sizeof(REAL));
  ER_T(er_l1norm_backward)(dl, e->d1, e->a1, e->n1, n, L->hidden);
  memset(e->d1, 0, (size_t)n * L->hidden * sizeof(REAL));
  /* the LeakyReLU input o1 shares its sign with a1 = L1(LeakyReLU(o1)): a1 stands in */
  ER_T(er_leakyrelu_backward)(e->d1, dl, e->a1, (REAL)0.01, n * L->hidden);
  ER_CALL(ER_T(gat_backward)(e, e->dh1, gr + L->as1, gr + L->ad1, gr + L->b1, e->d1, e->h1,
                       p + L->as1, p + L->ad1, e->c1, (int)H, (int)C1));
#if ER_ENC_SPARSE
  if (e->sparse) er_spmm_backward_w(gr + L->W1, e->xsin, e->dh1, L->hidden);
#endif
  if (!e->sparse) ER_CALL(ER_T(er_linear_backward)(NULL, gr + L->W1, e->dh1, e->xin, p + L->W1, n, L->F, L->hidden));
cleanup:
  return err;
}
