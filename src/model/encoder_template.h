/* encoder_template.h: the distributed GAT encoder, written once for REAL: dropout -> GAT(H
 * heads) -> LeakyReLU(0.01) -> L1 -> GAT(1 head, d) -> L1 -> ReLU, wiring the rank-local
 * kernels of nn.h to the halo. Owns the parameter and gradient slabs and every activation
 * buffer; allocates nothing per step. Included by encoder_f.c (float, training) and encoder_d.c
 * (double, gradient checks), which define REAL, ER_MPI_REAL, ER_ENC_SPARSE and NAME_T for the
 * names of encoder.h it defines and of nn.h it calls.
 *
 * Layer 2 has one head, so its transform commutes with the aggregation:
 *   o2_i = sum_j alpha_ij (a1_j W2) + b2 = (sum_j alpha_ij a1_j) W2 + b2 = u2_i W2 + b2,
 *   a_src2 . (a1_j W2) = a1_j . (W2 a_src2) = a1_j . vs2  (likewise vd2 = W2 a_dst2),
 * so the attention, the halo and the backward gather run on the `hidden`-wide a1 (256) instead
 * of the `embed`-wide a1 W2 (512): half the bytes per edge and per ghost row. The backward
 * carries dvs2, dvd2 back to W2, a_src2 and a_dst2 (dW2 += dvs2 a_src2^T + dvd2 a_dst2^T,
 * da_src2 += W2^T dvs2). The whole-model gradient check covers it.
 *
 * With bf16 gathers (float only, ER_ENC_BF16): the rows the GAT passes gather and the halos
 * carry are bf16 copies made right after the rows are computed: h1b of h1 = x W1 and a1b of a1
 * (their ghost rows come by the forward halo in bf16); the backward's gather pass reads dout in
 * bf16 (gb), and the ghost rows of dh go back to their owners in bf16 (gb again), summed in
 * float there. h1 and a1 keep only their owned rows in float. */
#ifndef REAL
#error "encoder_template.h is included by encoder_f.c / encoder_d.c only"
#endif
/* An unmapped NAME_T would be defined under that name, without the prototype from encoder.h. */
#pragma GCC diagnostic error "-Wmissing-prototypes"

struct er_encoder_T {
  er_dgraph *g;
  er_lgraph lg;
  er_encoder_layout lay; /* parameter layout: sizes and offsets into params and grads */
  double dropout;
  const REAL *x0; /* (n_own, F) normalized features, not owned */
  int sparse;      /* 1: layer 1 input kept as CSR (xs0, with dropout xs) */
#if ER_ENC_SPARSE
  er_spmat xs0, xs;
  const er_spmat *xsin; /* xs0 or xs: the sparse input of the last forward */
#endif
  REAL *params, *grads;
  int64_t n_own, n_tot;
  int bf16;            /* 1: GAT rows gathered and exchanged in bf16 (float only) */
  /* activations */
  REAL *xd;            /* (n_own, F) dropout output */
  const REAL *xin;     /* xd or x0: input of layer 1 in the last forward */
  REAL *h1, *o1;       /* (n_tot, hidden) (bf16: (n_own, hidden)), (n_own, hidden) */
  REAL *a1;            /* (n_tot, hidden) (bf16: (n_own, hidden)): layer-2 input, ghost rows by
                          halo */
  er_bf16 *h1b, *a1b;  /* bf16 only: (n_tot, hidden) bf16 h1 and a1, ghost rows by halo */
  REAL *n1;            /* (n_own) L1 norms */
  REAL *u2;            /* (n_own, hidden): attention-weighted sums of a1 */
  REAL *o2, *zl;       /* (n_own, embed) x2: o2 = u2 W2 + b2; zl holds Z = ReLU(L1(o2)) */
  REAL *n2;            /* (n_own) */
  REAL *v2;            /* (4, hidden): vs2 = W2 a_src2, vd2 = W2 a_dst2, their gradients */
  double *bacc;        /* (embed): db2 accumulator */
  /* backward scratch */
  REAL *d1;            /* (n_own, hidden) */
  REAL *dh;            /* (n_tot, hidden): d a1 of layer 2, then dh1 of layer 1 */
  er_bf16 *gb;         /* bf16 only: (max(n_own, n_ghost), hidden): a GAT backward's dout for
                          its gather pass, then the ghost rows of dh for the reverse halo */
  er_gat_cache_T *c1, *c2;
  /* evaluation on a row subset (er_encoder_eval_rows): owned rows in row_order order, interior
   * ones first; sub2 = rows whose Z is wanted, sub1 = rows whose layer-1 output a1 the
   * sub2 rows of any rank read, sub0 = rows whose h1 = x W1 the sub1 rows of any rank read.
   * NULL when no subset is planned. */
  er_lidx *sub0, *sub1, *sub2;
  int64_t n_sub0, n_sub0_int, n_sub1, n_sub1_int, n_sub2, n_sub2_int;
  /* with a subset: forward-only halos of the ghost rows that the sub1 rows (layer 1) and the
   * sub2 rows (layer 2) read, in place in the graph's numbering (er_halo_create_rows) */
  er_halo *sub_halo1, *sub_halo2;
  double sub_wait_s; /* the waits of subset halos already dropped (er_encoder_halo_wait_f) */
};

/* Buffer tables (erase/mem.h): (lvalue, elements, type, flags) over no owned rows, nt rows with
 * ghosts, F input features (dense = 1 when layer 1 reads them dense), hid = hidden, d = embed,
 * np parameters; with bf16 gathers (b16 = 1) h1 and a1 are owned rows only (nf = no, else nt)
 * and their bf16 copies hold the ghosts. The backward scratch dh also serves the subset
 * transforms as chunk scratch: at least one row of input + output (chunk_row). */
#define ENCODER_BUFFERS(X)                                                                   \
  X(e->params, np, REAL, ER_BUF_ZERO)                                                        \
  X(e->grads, np, REAL, ER_BUF_ZERO)                                                         \
  X(e->xd, dense * no * F, REAL, ER_BUF_OPT)                                                 \
  X(e->h1, nf * hid, REAL, ER_BUF_ZERO)                                                      \
  X(e->a1, nf * hid, REAL, ER_BUF_ZERO)                                                      \
  X(e->h1b, b16 * nt * hid, er_bf16, ER_BUF_ZERO | ER_BUF_OPT)                               \
  X(e->a1b, b16 * nt * hid, er_bf16, ER_BUF_ZERO | ER_BUF_OPT)                               \
  X(e->n1, no, REAL, 0)                                                                      \
  X(e->u2, no * hid, REAL, 0)                                                                \
  X(e->o2, no * d, REAL, 0)                                                                  \
  X(e->zl, no * d, REAL, 0)                                                                  \
  X(e->n2, no, REAL, 0)                                                                      \
  X(e->v2, 4 * hid, REAL, ER_BUF_ZERO)                                                       \
  X(e->bacc, d, double, 0)                                                                   \
  X(e->d1, no * hid, REAL, 0)
#define ENCODER_SCRATCH(X)                                                                   \
  X(e->dh, nt * hid > chunk_row ? nt * hid : chunk_row, REAL, 0)                             \
  X(e->gb, b16 * (no > nt - no ? no : nt - no) * hid, er_bf16, ER_BUF_OPT)
/* the evaluation plan (er_encoder_eval_rows): flags while planning, then the row lists of the
 * n2 wanted rows, the n1 rows of layer 1 and the n0 rows of its linear part */
#define ENCODER_EVAL_FLAGS(X)                                                                \
  X(f2, no + 1, uint8_t, 0)                                                                  \
  X(f1, no + 1, uint8_t, 0)                                                                  \
  X(f0, no + 1, uint8_t, 0)
/* a subset halo while it is made (sub_halo): the ng ghosts read */
#define ENCODER_SUB_GHOSTS(X)                                                                \
  X(sg_gid, ng + 1, int64_t, 0)                                                              \
  X(sg_owner, ng + 1, int, 0)                                                                \
  X(sg_row, ng + 1, er_lidx, 0)
#define ENCODER_EVAL_ROWS(X)                                                                 \
  X(e->sub2, n2 + 1, er_lidx, 0)                                                             \
  X(e->sub1, n1 + 1, er_lidx, 0)                                                             \
  X(e->sub0, n0 + 1, er_lidx, 0)
/* the objects it makes (Y(condition, create, bytes)): the sparse input and its dropout copy
 * (nzf stored entries), and the two GAT caches over nnz edges */
#if ER_ENC_SPARSE
#define ENCODER_SPARSE_PARTS(Y)                                                              \
  Y(!dense, er_spmat_from_dense(&e->xs0, x_norm, no, F), er_spmat_bytes(no, nzf))            \
  Y(!dense, er_spmat_from_dense(&e->xs, x_norm, no, F), er_spmat_bytes(no, nzf))
#else
#define ENCODER_SPARSE_PARTS(Y)
#endif
#define ENCODER_PARTS(Y)                                                                     \
  ENCODER_SPARSE_PARTS(Y)                                                                    \
  Y(1, er_gat_cache_create_T(&e->lg, (int)H, (int)C1, &e->c1),                               \
    er_gat_cache_bytes_T(no, nt, nnz, (int)H, (int)C1))                                      \
  Y(1, er_gat_cache_create_T(&e->lg, 1, (int)hid, &e->c2),                                   \
    er_gat_cache_bytes_T(no, nt, nnz, 1, (int)hid))

/* Parameter slab layout: sizes and offsets of the named views. */
static void layout_make(er_encoder_layout *lay, int64_t F, int64_t hidden, int64_t heads,
                        int64_t embed) {
  lay->F = F, lay->hidden = hidden, lay->heads = heads, lay->embed = embed;
  int64_t off = 0;
  lay->W1 = off, off += lay->F * hidden;
  lay->as1 = off, off += hidden; /* (heads, hidden / heads) */
  lay->ad1 = off, off += hidden;
  lay->b1 = off, off += hidden;
  lay->W2 = off, off += hidden * embed;
  lay->as2 = off, off += embed;
  lay->ad2 = off, off += embed;
  lay->b2 = off, off += embed;
  lay->n_params = off;
}

void er_encoder_mem_T(const er_mem_counts *c, er_encoder_mem *m) {
  er_encoder_layout lay;
  layout_make(&lay, c->F, c->hidden, c->heads, c->embed);
  const int64_t no = c->n, nt = c->n + c->g, nnz = c->e, F = c->F, hid = c->hidden;
  const int64_t d = c->embed, np = lay.n_params, H = c->heads, C1 = hid / H;
  const int64_t chunk_row = hid + (d > F ? d : F);
#if ER_ENC_SPARSE
  const int64_t dense = !(c->density < ER_SPARSE_INPUT_DENSITY);
  const int64_t nzf = (int64_t)(c->density * (double)no * (double)F + 0.5);
#else
  const int64_t dense = 1;
#endif
  const int64_t n2 = c->sub[0], n1 = c->sub[1], n0 = c->sub[2];
  const int64_t b16 = ER_ENC_BF16 && c->gather_bf16, nf = b16 ? no : nt;
  m->kept = 0 ENCODER_BUFFERS(ER_BUF_BYTES) ENCODER_PARTS(ER_PART_BYTES);
  m->scratch = 0 ENCODER_SCRATCH(ER_BUF_BYTES);
  /* the subset halos: per ghost read (at most the ghosts, at most the rows read on other
   * ranks: n0 for layer 1, n1 for layer 2, a balanced rank's share) its row and a byte offset,
   * per row sent its index and an offset */
  const int64_t g1 = nt - no < n0 ? nt - no : n0, g2 = nt - no < n1 ? nt - no : n1;
  const double sub_halos = (double)(g1 + g2) * 2.0 * ((double)sizeof(er_lidx) + sizeof(MPI_Aint));
  m->eval_rows = n2 > 0 ? (0 ENCODER_EVAL_ROWS(ER_BUF_BYTES)) + sub_halos : 0;
  const int64_t ng = g1;
  m->eval_plan = (0 ENCODER_EVAL_FLAGS(ER_BUF_BYTES)) + m->eval_rows +
                 (n2 > 0 ? 0 ENCODER_SUB_GHOSTS(ER_BUF_BYTES) : 0);
  m->halo_row = (b16 ? (double)sizeof(er_bf16) : (double)sizeof(REAL)) * (double)hid;
  m->n_params = (double)np;
  m->sparse = !dense;
}

const er_encoder_layout *er_encoder_layout_T(const er_encoder_T *e) { return &e->lay; }
REAL *er_encoder_params_T(er_encoder_T *e) { return e->params; }
REAL *er_encoder_grads_T(er_encoder_T *e) { return e->grads; }
REAL *er_encoder_dz_buffer_T(er_encoder_T *e) { return e->o2; }
void er_encoder_zero_grads_T(er_encoder_T *e) {
  memset(e->grads, 0, (size_t)e->lay.n_params * sizeof(REAL));
}

er_err er_encoder_create_T(er_dgraph *g, const REAL *x_norm, int64_t hidden, int64_t heads,
                           int64_t embed, double dropout, int gather_bf16, er_encoder_T **out) {
  er_err err = ER_OK;
  er_encoder_T *e = NULL;
  *out = NULL;
  ER_CHECK(!gather_bf16 || ER_ENC_BF16, ER_ERR_INPUT,
           "bf16 gathers are a float encoder option: this encoder (%s) has none",
           sizeof(REAL) == sizeof(double) ? "double" : "float");
  ER_CHECK(hidden % heads == 0, ER_ERR_INPUT, "heads %lld do not divide hidden %lld",
           (long long)heads, (long long)hidden);
  ER_CALLOC(e, 1);
  e->g = g;
  e->x0 = x_norm;
  e->dropout = dropout;
  e->bf16 = gather_bf16 != 0;
  e->n_own = g->n_own;
  e->n_tot = (int64_t)g->n_own + g->n_ghost;
  e->lg = (er_lgraph){e->n_own, e->n_tot, g->indptr, g->indices};
  er_encoder_layout *lay = &e->lay;
  layout_make(lay, g->F, hidden, heads, embed);
#if ER_ENC_SPARSE
  e->sparse = er_dense_density(x_norm, e->n_own, lay->F) < ER_SPARSE_INPUT_DENSITY;
#endif
  const int64_t no = e->n_own, nt = e->n_tot, F = lay->F, hid = hidden, d = embed;
  const int64_t np = lay->n_params, H = heads, C1 = hidden / heads, dense = !e->sparse;
  const int64_t chunk_row = hid + (d > F ? d : F);
  const int64_t b16 = e->bf16, nf = b16 ? no : nt;
  ENCODER_BUFFERS(ER_BUF_ALLOC)
  ENCODER_SCRATCH(ER_BUF_ALLOC)
  e->o1 = e->d1;  /* GAT-1 output lives only until the LeakyReLU; d1 is backward scratch */
  ENCODER_PARTS(ER_PART_MAKE)
  *out = e;
  e = NULL;
cleanup:
  er_encoder_destroy_T(&e);
  return err;
}

static void eval_plan_free(er_encoder_T *e);

void er_encoder_destroy_T(er_encoder_T **pe) {
  if (!pe || !*pe) return;
  er_encoder_T *e = *pe;
  ENCODER_BUFFERS(ER_BUF_FREE)
  ENCODER_SCRATCH(ER_BUF_FREE)
  eval_plan_free(e);
#if ER_ENC_SPARSE
  er_spmat_free(&e->xs0);
  er_spmat_free(&e->xs);
#endif
  er_gat_cache_destroy_T(&e->c1);
  er_gat_cache_destroy_T(&e->c2);
  free(e);
  *pe = NULL;
}

void er_encoder_init_T(er_encoder_T *e, uint64_t seed) {
  er_encoder_layout *lay = &e->lay;
  REAL *p = e->params;
  int64_t H = lay->heads, C1 = lay->hidden / lay->heads;
  er_glorot_init_T(p + lay->W1, seed, 1, lay->F, lay->hidden);
  er_glorot_init_T(p + lay->as1, seed, 2, H, C1);
  er_glorot_init_T(p + lay->ad1, seed, 3, H, C1);
  memset(p + lay->b1, 0, (size_t)lay->hidden * sizeof(REAL));
  er_glorot_init_T(p + lay->W2, seed, 4, lay->hidden, lay->embed);
  er_glorot_init_T(p + lay->as2, seed, 5, 1, lay->embed);
  er_glorot_init_T(p + lay->ad2, seed, 6, 1, lay->embed);
  memset(p + lay->b2, 0, (size_t)lay->embed * sizeof(REAL));
}

/* Fused backward of Z = ReLU(y), y = x / max(|x|_1, eps), from Z alone (y is not kept):
 * where Z > 0, y = Z; elsewhere y <= 0 and dL/dy = 0, so dy . y = sum_{Z>0} dZ Z and
 * sign(y) = -1 (an exact y = 0 has measure zero). out may alias dZ. Equals er_relu_backward
 * followed by er_l1norm_backward; the whole-model gradient check covers it. */
static void relu_l1_backward(REAL *out, const REAL *dZ, const REAL *Z, const REAL *norm, int64_t n,
                             int64_t d) {
  for (int64_t i = 0; i < n; ++i) {
    const REAL *z = Z + i * d, *dz = dZ + i * d;
    REAL *o = out + i * d;
    double dot;
    ER_SUM8(dot, d, k, z[k] > 0 ? (double)dz[k] * z[k] : 0.0);
    if (norm[i] < ER_L1_EPS) {
      for (int64_t k = 0; k < d; ++k) o[k] = z[k] > 0 ? (REAL)(dz[k] / ER_L1_EPS) : 0;
      continue;
    }
    REAL inv = (REAL)(1.0 / norm[i]), dt = (REAL)dot;
    for (int64_t k = 0; k < d; ++k) o[k] = z[k] > 0 ? (dz[k] - dt) * inv : dt * inv;
  }
}

/* Fused backward of a = L1(LeakyReLU_slope(o)) from a alone: dL/dy = (da - sign(a) (da . a)) / s
 * (er_l1norm_backward), then times slope where a <= 0 (o shares a's sign). out must not alias
 * da. Equals er_l1norm_backward followed by er_leakyrelu_backward. */
static void lrelu_l1_backward(REAL *out, const REAL *da, const REAL *a, const REAL *norm,
                              REAL slope, int64_t n, int64_t d) {
  for (int64_t i = 0; i < n; ++i) {
    const REAL *y = a + i * d, *dy = da + i * d;
    REAL *o = out + i * d;
    if (!((double)norm[i] >= ER_L1_EPS)) {
      REAL inv = (REAL)(1.0 / ER_L1_EPS);
      for (int64_t k = 0; k < d; ++k) o[k] = (y[k] > 0 ? 1 : slope) * dy[k] * inv;
      continue;
    }
    double dot;
    ER_SUM8(dot, d, k, (double)dy[k] * y[k]);
    REAL inv = (REAL)(1.0 / (double)norm[i]), dt = (REAL)dot;
    for (int64_t k = 0; k < d; ++k) {
      REAL sg = y[k] > 0 ? (REAL)1 : (y[k] < 0 ? (REAL)-1 : (REAL)0);
      REAL v = (dy[k] - sg * dt) * inv;
      o[k] = y[k] > 0 ? v : slope * v;
    }
  }
}

/* vs2 = W2 a_src2, vd2 = W2 a_dst2 (hidden each; W2 is hidden x embed, row-major) */
static void fold_scores(er_encoder_T *e) {
  const er_encoder_layout *lay = &e->lay;
  const REAL *p = e->params, *W = p + lay->W2, *as = p + lay->as2, *ad = p + lay->ad2;
  int64_t hid = lay->hidden, d = lay->embed;
  for (int64_t r = 0; r < hid; ++r) {
    double s, t;
    ER_SUM8(s, d, c, (double)W[r * d + c] * as[c]);
    ER_SUM8(t, d, c, (double)W[r * d + c] * ad[c]);
    e->v2[r] = (REAL)s, e->v2[hid + r] = (REAL)t;
  }
}

/* out rows = in rows W (+ b when b != NULL) for the owned rows rows[0..n), through gathered
 * chunks in the (idle) backward scratch dh, which holds max(n_tot x hidden, hidden +
 * max(embed, F)) values: cap x (fin + fout) fits, with cap >= 1. */
static er_err linear_rows(er_encoder_T *e, REAL *out, const REAL *in, const REAL *W, const REAL *b,
                          int64_t fin, int64_t fout, const er_lidx *rows, int64_t n) {
  er_err err = ER_OK;
  int64_t cap = e->n_tot * e->lay.hidden / (fin + fout);
  if (cap > 4096) cap = 4096;
  if (cap < 1) cap = 1;
  REAL *tin = e->dh, *tout = e->dh + cap * fin;
  for (int64_t s = 0; s < n; s += cap) {
    int64_t nr = n - s < cap ? n - s : cap;
    for (int64_t r = 0; r < nr; ++r)
      memcpy(tin + r * fin, in + (int64_t)rows[s + r] * fin, (size_t)fin * sizeof(REAL));
    ER_CALL(er_linear_forward_T(tout, tin, W, nr, fin, fout));
    for (int64_t r = 0; r < nr; ++r) {
      REAL *o = out + (int64_t)rows[s + r] * fout;
      for (int64_t k = 0; k < fout; ++k) o[k] = tout[r * fout + k] + (b ? b[k] : 0);
    }
  }
cleanup:
  return err;
}

/* o2 rows = u2 rows W2 + b2, for the owned rows rows[0..n) (all owned rows when rows == NULL). */
static er_err transform2(er_encoder_T *e, const er_lidx *rows, int64_t n) {
  er_err err = ER_OK;
  const er_encoder_layout *lay = &e->lay;
  const REAL *p = e->params, *b = p + lay->b2;
  int64_t hid = lay->hidden, d = lay->embed;
  if (rows) return linear_rows(e, e->o2, e->u2, p + lay->W2, b, hid, d, rows, n);
  ER_CALL(er_linear_forward_T(e->o2, e->u2, p + lay->W2, n, hid, d));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k) e->o2[i * d + k] += b[k];
cleanup:
  return err;
}

/* GAT forward at the owned rows rows[0..n) (the first n_int of them interior) with the halo of
 * h overlapped with the interior rows. h's owned rows are filled. */
/* The scores a forward needs before it aggregates the owned rows rows[0..n): with the whole
 * halo (training), of every owned row (the ghosts' follow once they arrive: the backward reads
 * them); with a subset's halo, of those rows only (the aggregation recomputes a neighbour's
 * source score from its row). */
#define GAT_OWN_SCORES(SCORES, halo)                                                         \
  do {                                                                                       \
    if ((halo) == e->g->halo)                                                                \
      ER_CALL(SCORES(c, h, as, ad, 0, e->n_own, &e->lg, H, C));                              \
    else                                                                                     \
      for (int64_t r_ = 0; r_ < n; ++r_)                                                     \
        ER_CALL(SCORES(c, h, as, ad, rows[r_], rows[r_] + 1, &e->lg, H, C));                 \
  } while (0)

static er_err gat_forward_rows(er_encoder_T *e, er_halo *halo, REAL *out, er_gat_cache_T *c,
                               REAL *h, const REAL *as, const REAL *ad, const REAL *b, int H,
                               int C, const er_lidx *rows, int64_t n, int64_t n_int) {
  er_err err = ER_OK;
  ER_CALL(er_halo_forward_begin(halo, h, H * C, ER_MPI_REAL));
  GAT_OWN_SCORES(er_gat_scores_T, halo);
  ER_CALL(er_gat_aggregate_T(out, c, h, as, b, rows, n_int, &e->lg, H, C));
  ER_CALL(er_halo_forward_end(halo));
  if (halo == e->g->halo) ER_CALL(er_gat_scores_T(c, h, as, ad, e->n_own, e->n_tot, &e->lg, H, C));
  ER_CALL(er_gat_aggregate_T(out, c, h, as, b, rows + n_int, n - n_int, &e->lg, H, C));
cleanup:
  return err;
}

#if ER_ENC_BF16
/* hb rows = bf16(h rows) (hidden wide) for the owned rows rows[0..n) (rows 0..n-1 when rows is
 * NULL). */
static void to_bf16_rows(const er_encoder_T *e, er_bf16 *hb, const REAL *h, const er_lidx *rows,
                         int64_t n) {
  const int64_t w = e->lay.hidden;
  if (!rows) {
    er_bf16_from_f_array(hb, h, n * w);
    return;
  }
  for (int64_t r = 0; r < n; ++r) er_bf16_from_f_array(hb + rows[r] * w, h + rows[r] * w, w);
}

/* gat_forward_rows on the bf16 rows hb: the halo carries 2-byte values. */
static er_err gat_forward_rows_b(er_encoder_T *e, er_halo *halo, REAL *out, er_gat_cache_T *c,
                                 er_bf16 *hb, const REAL *as, const REAL *ad, const REAL *b,
                                 int H, int C, const er_lidx *rows, int64_t n, int64_t n_int) {
  er_err err = ER_OK;
  const er_bf16 *h = hb; /* GAT_OWN_SCORES's name for the rows */
  ER_CALL(er_halo_forward_begin(halo, hb, H * C, MPI_UINT16_T));
  GAT_OWN_SCORES(er_gat_scores_bf16, halo);
  ER_CALL(er_gat_aggregate_bf16(out, c, hb, as, b, rows, n_int, &e->lg, H, C));
  ER_CALL(er_halo_forward_end(halo));
  if (halo == e->g->halo)
    ER_CALL(er_gat_scores_bf16(c, h, as, ad, e->n_own, e->n_tot, &e->lg, H, C));
  ER_CALL(er_gat_aggregate_bf16(out, c, hb, as, b, rows + n_int, n - n_int, &e->lg, H, C));
cleanup:
  return err;
}
#endif

/* The GAT forward of a layer at the owned rows rows[0..n) (n_int interior) from its input rows:
 * h in REAL, or (bf16 gathers) its owned rows rows0[0..n0) (all when rows0 is NULL) first
 * rounded into hb. */
static er_err gat_layer_rows(er_encoder_T *e, er_halo *halo, REAL *out, er_gat_cache_T *c,
                             REAL *h, er_bf16 *hb, const er_lidx *rows0, int64_t n0,
                             const REAL *as, const REAL *ad, const REAL *b, int H, int C,
                             const er_lidx *rows, int64_t n, int64_t n_int) {
#if ER_ENC_BF16
  if (e->bf16) {
    to_bf16_rows(e, hb, h, rows0, n0);
    return gat_forward_rows_b(e, halo, out, c, hb, as, ad, b, H, C, rows, n, n_int);
  }
#endif
  (void)hb, (void)rows0, (void)n0;
  return gat_forward_rows(e, halo, out, c, h, as, ad, b, H, C, rows, n, n_int);
}

static er_err gat_forward(er_encoder_T *e, REAL *out, er_gat_cache_T *c, REAL *h, er_bf16 *hb,
                          const REAL *as, const REAL *ad, const REAL *b, int H, int C) {
  return gat_layer_rows(e, e->g->halo, out, c, h, hb, NULL, e->n_own, as, ad, b, H, C,
                        e->g->row_order, e->n_own, e->g->n_interior);
}

/* Seconds waited in the evaluation halos, those dropped included. */
static double sub_halos_waited(const er_encoder_T *e) {
  double w = e->sub_wait_s;
  const er_halo *halos[2] = {e->sub_halo1, e->sub_halo2};
  for (int k = 0; k < 2; ++k)
    if (halos[k]) {
      er_halo_stats st;
      er_halo_get_stats(halos[k], &st);
      w += st.wait_s;
    }
  return w;
}

/* Drops the evaluation subset (row lists and halos): forwards compute every row again. */
static void eval_plan_free(er_encoder_T *e) {
  ENCODER_EVAL_ROWS(ER_BUF_FREE)
  e->sub_wait_s = sub_halos_waited(e);
  er_halo_destroy(&e->sub_halo1);
  er_halo_destroy(&e->sub_halo2);
}

/* Collective. *halo: a forward-only halo of the ghost rows marked in m (n_tot; the marks
 * mark_neighbours leaves on the ghosts its flagged rows read). */
static er_err sub_halo(er_encoder_T *e, const REAL *m, er_halo **halo) {
  er_err err = ER_OK;
  const er_dgraph *g = e->g;
  const int64_t n_ghost = e->n_tot - e->n_own;
  const REAL *mg = m + e->n_own;
  int64_t ng = 0;
  int64_t *sg_gid = NULL;
  int *sg_owner = NULL;
  er_lidx *sg_row = NULL;
  for (int64_t k = 0; k < n_ghost; ++k) ng += mg[k] > 0;
  ENCODER_SUB_GHOSTS(ER_BUF_ALLOC)
  ER_AGREE(g->comm);
  ng = 0;
  for (int64_t k = 0; k < n_ghost; ++k) /* in ghost order: grouped by ascending owner */
    if (mg[k] > 0) {
      sg_gid[ng] = g->gid[e->n_own + k];
      sg_owner[ng] = g->ghost_owner[k];
      sg_row[ng++] = (er_lidx)(e->n_own + k);
    }
  ER_CALL(er_halo_create_rows(g->comm, (er_lidx)e->n_own, g->gid, (er_lidx)ng, sg_gid, sg_owner,
                              sg_row, halo));
cleanup:
  err = ER_FINISH(g->comm);
  ENCODER_SUB_GHOSTS(ER_BUF_FREE)
  return err;
}

/* Marks of the owned rows that a flagged owned row is or links to, on any rank: flag rows and
 * their neighbours (ghosts too) in m (n_tot), then the reverse halo adds ghost marks into their
 * owners; the ghost rows of m keep this rank's marks (the ghosts its flagged rows read).
 * Collective. */
static er_err mark_neighbours(er_encoder_T *e, REAL *m, const uint8_t *in, uint8_t *out) {
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

static int64_t flag_count(const er_encoder_T *e, const uint8_t *flag) {
  int64_t k = 0;
  for (int64_t i = 0; i < e->n_own; ++i) k += flag[i] != 0;
  return k;
}

/* The flagged owned rows as a list in row_order order (interior rows first). */
static void row_list(const er_encoder_T *e, const uint8_t *flag, er_lidx *list, int64_t *n,
                     int64_t *n_int) {
  const er_dgraph *g = e->g;
  *n = *n_int = 0;
  for (int64_t r = 0; r < e->n_own; ++r) {
    er_lidx i = g->row_order[r];
    if (!flag[i]) continue;
    list[(*n)++] = i;
    if (r < g->n_interior) ++*n_int;
  }
}

er_err er_encoder_eval_rows_T(er_encoder_T *e, const uint8_t *want, double max_fraction,
                              int *active) {
  er_err err = ER_OK;
  uint8_t *f2 = NULL, *f1 = NULL, *f0 = NULL;
  int64_t cnt[2] = {0, e->n_own};
  const int64_t no = e->n_own;
  eval_plan_free(e);
  *active = 0;
  ENCODER_EVAL_FLAGS(ER_BUF_ALLOC)
  ER_AGREE(e->g->comm);
  for (int64_t i = 0; i < e->n_own; ++i) f2[i] = want[i] != 0;
  /* f1: rows whose layer-1 output a1 a wanted row's layer-2 aggregation reads */
  ER_CALL(mark_neighbours(e, e->dh, f2, f1));
  for (int64_t i = 0; i < e->n_own; ++i) cnt[0] += f1[i];
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, cnt, 2, MPI_INT64_T, MPI_SUM, e->g->comm));
  if ((double)cnt[0] <= max_fraction * (double)cnt[1]) {
    ER_CALL(sub_halo(e, e->dh, &e->sub_halo2)); /* the ghosts the wanted rows read */
    /* f0: rows whose h1 a sub1 row's layer-1 aggregation reads */
    ER_CALL(mark_neighbours(e, e->dh, f1, f0));
    ER_CALL(sub_halo(e, e->dh, &e->sub_halo1)); /* the ghosts the sub1 rows read */
    const int64_t n2 = flag_count(e, f2), n1 = flag_count(e, f1), n0 = flag_count(e, f0);
    ENCODER_EVAL_ROWS(ER_BUF_ALLOC)
    ER_AGREE(e->g->comm);
    row_list(e, f2, e->sub2, &e->n_sub2, &e->n_sub2_int);
    row_list(e, f1, e->sub1, &e->n_sub1, &e->n_sub1_int);
    row_list(e, f0, e->sub0, &e->n_sub0, &e->n_sub0_int);
    *active = 1;
  }
cleanup:
  err = ER_FINISH(e->g->comm);
  if (err != ER_OK) {
    eval_plan_free(e);
    *active = 0;
  }
  ENCODER_EVAL_FLAGS(ER_BUF_FREE)
  return err;
}

/* Evaluation forward (no dropout) at the planned rows: layer 1's linear part at sub0 (all rows
 * with a sparse input, where it is cheap), GAT-1 and its activations only at sub1, layer 2
 * (aggregation, transform, output activations) only at sub2. Other rows of every buffer keep
 * stale values that no planned row reads. Each computed row is what the full forward computes
 * there (up to BLAS blocking). */
static er_err forward_rows(er_encoder_T *e) {
  er_err err = ER_OK;
  er_encoder_layout *lay = &e->lay;
  const REAL *p = e->params;
  int64_t H = lay->heads, hid = lay->hidden, d = lay->embed, C1 = hid / H;
  ER_CALL(gat_layer_rows(e, e->sub_halo1, e->o1, e->c1, e->h1, e->h1b, e->sub0, e->n_sub0,
                         p + lay->as1, p + lay->ad1, p + lay->b1, (int)H, (int)C1, e->sub1,
                         e->n_sub1, e->n_sub1_int));
  for (int64_t r = 0; r < e->n_sub1; ++r) {
    int64_t i = e->sub1[r];
    er_leakyrelu_forward_T(e->a1 + i * hid, e->o1 + i * hid, (REAL)0.01, hid);
    er_l1norm_forward_T(e->a1 + i * hid, e->n1 + i, e->a1 + i * hid, 1, hid);
  }
  fold_scores(e);
  ER_CALL(gat_layer_rows(e, e->sub_halo2, e->u2, e->c2, e->a1, e->a1b, e->sub1, e->n_sub1, e->v2,
                         e->v2 + hid, NULL, 1, (int)hid, e->sub2, e->n_sub2, e->n_sub2_int));
  ER_CALL(transform2(e, e->sub2, e->n_sub2));
  for (int64_t r = 0; r < e->n_sub2; ++r) {
    int64_t i = e->sub2[r];
    er_l1norm_forward_T(e->zl + i * d, e->n2 + i, e->o2 + i * d, 1, d);
    er_relu_forward_T(e->zl + i * d, e->zl + i * d, d);
  }
cleanup:
  return err;
}

/* GAT backward: dh (n_tot, H*C) is written by the gather pass (no clearing). Ghost rows are
 * complete once the boundary rows and the ghost sources are done; they go back to their owners
 * by reverse halo while the interior rows and the owned sources are processed. */
static er_err gat_backward(er_encoder_T *e, REAL *dh, REAL *das, REAL *dad, REAL *db,
                           const REAL *dout, const REAL *h, const REAL *as, const REAL *ad,
                           er_gat_cache_T *c, int H, int C) {
  er_err err = ER_OK;
  er_dgraph *g = e->g;
  ER_CALL(er_gat_backward_gather_T(dh, dout, h, c, 0, e->n_tot, &e->lg, H, C));
  ER_CALL(er_gat_backward_rows_T(db, dout, c, g->row_order + g->n_interior,
                                 g->n_own - g->n_interior, &e->lg, H, C));
  ER_CALL(er_gat_backward_sources_T(dh, das, dad, h, as, ad, c, e->n_own, e->n_tot, &e->lg, H, C));
  ER_CALL(er_halo_reverse_begin(g->halo, dh, H * C, ER_MPI_REAL));
  ER_CALL(er_gat_backward_rows_T(db, dout, c, g->row_order, g->n_interior, &e->lg, H, C));
  ER_CALL(er_gat_backward_sources_T(dh, das, dad, h, as, ad, c, 0, e->n_own, &e->lg, H, C));
  ER_CALL(er_halo_reverse_end(g->halo));
cleanup:
  return err;
}

#if ER_ENC_BF16
/* gat_backward on the bf16 rows hb: the gather pass reads dout rounded into gb; the ghost rows
 * of dh, once complete, are rounded into gb and go back in bf16. */
static er_err gat_backward_b(er_encoder_T *e, REAL *dh, REAL *das, REAL *dad, REAL *db,
                             const REAL *dout, const er_bf16 *hb, const REAL *as, const REAL *ad,
                             er_gat_cache_T *c, int H, int C) {
  er_err err = ER_OK;
  er_dgraph *g = e->g;
  const int64_t HC = (int64_t)H * C;
  er_bf16_from_f_array(e->gb, dout, e->n_own * HC);
  ER_CALL(er_gat_backward_gather_bf16(dh, e->gb, hb, c, 0, e->n_tot, &e->lg, H, C));
  ER_CALL(er_gat_backward_rows_f(db, dout, c, g->row_order + g->n_interior,
                                 g->n_own - g->n_interior, &e->lg, H, C));
  ER_CALL(er_gat_backward_sources_bf16(dh, das, dad, hb, as, ad, c, e->n_own, e->n_tot, &e->lg, H,
                                       C));
  er_bf16_from_f_array(e->gb, dh + e->n_own * HC, (e->n_tot - e->n_own) * HC);
  ER_CALL(er_halo_reverse_begin_bf16(g->halo, e->gb, dh, H * C));
  ER_CALL(er_gat_backward_rows_f(db, dout, c, g->row_order, g->n_interior, &e->lg, H, C));
  ER_CALL(er_gat_backward_sources_bf16(dh, das, dad, hb, as, ad, c, 0, e->n_own, &e->lg, H, C));
  ER_CALL(er_halo_reverse_end(g->halo));
cleanup:
  return err;
}
#endif

/* A layer's GAT backward, on h or (bf16 gathers) on hb. */
static er_err gat_layer_backward(er_encoder_T *e, REAL *dh, REAL *das, REAL *dad, REAL *db,
                                 const REAL *dout, const REAL *h, const er_bf16 *hb,
                                 const REAL *as, const REAL *ad, er_gat_cache_T *c, int H, int C) {
#if ER_ENC_BF16
  if (e->bf16) return gat_backward_b(e, dh, das, dad, db, dout, hb, as, ad, c, H, C);
#endif
  (void)hb;
  return gat_backward(e, dh, das, dad, db, dout, h, as, ad, c, H, C);
}

er_err er_encoder_forward_T(er_encoder_T *e, int train, uint64_t seed, int64_t step,
                            const REAL **Z) {
  er_err err = ER_OK;
  er_encoder_layout *lay = &e->lay;
  const REAL *p = e->params;
  int64_t n = e->n_own, H = lay->heads, C1 = lay->hidden / lay->heads;
  //---- layer 1: dropout on the input, then h1 = x W1 (sparse or dense) ----
#if ER_ENC_SPARSE
  if (e->sparse) {
    e->xsin = &e->xs0;
    if (train == ER_FWD_TRAIN && e->dropout > 0) {
      ER_CALL(er_spmat_dropout(&e->xs, &e->xs0, seed, step, e->g->gid, e->dropout));
      e->xsin = &e->xs;
    }
    er_spmm_forward(e->h1, e->xsin, p + lay->W1, lay->hidden);
  }
#endif
  if (!e->sparse) {
    e->xin = e->x0;
    if (train == ER_FWD_TRAIN && e->dropout > 0) {
      ER_CALL(er_dropout_forward_T(e->xd, e->x0, seed, step, e->g->gid, e->dropout, n, lay->F));
      e->xin = e->xd;
    }
    if (train == ER_FWD_EVAL_ROWS && e->sub1)
      ER_CALL(linear_rows(e, e->h1, e->xin, p + lay->W1, NULL, lay->F, lay->hidden, e->sub0,
                          e->n_sub0));
    else
      ER_CALL(er_linear_forward_T(e->h1, e->xin, p + lay->W1, n, lay->F, lay->hidden));
  }
  if (train == ER_FWD_EVAL_ROWS && e->sub1) {
    ER_CALL(forward_rows(e));
    *Z = e->zl;
    goto cleanup;
  }
  ER_CALL(gat_forward(e, e->o1, e->c1, e->h1, e->h1b, p + lay->as1, p + lay->ad1, p + lay->b1,
                      (int)H, (int)C1));
  er_leakyrelu_forward_T(e->a1, e->o1, (REAL)0.01, n * lay->hidden);
  er_l1norm_forward_T(e->a1, e->n1, e->a1, n, lay->hidden);
  //---- layer 2: aggregate a1 with the folded attention vectors, then transform ----
  fold_scores(e);
  ER_CALL(gat_forward(e, e->u2, e->c2, e->a1, e->a1b, e->v2, e->v2 + lay->hidden, NULL, 1,
                      (int)lay->hidden));
  ER_CALL(transform2(e, NULL, n));
  er_l1norm_forward_T(e->zl, e->n2, e->o2, n, lay->embed);
  er_relu_forward_T(e->zl, e->zl, n * lay->embed); /* Z = ReLU(zl) in place */
  *Z = e->zl;
cleanup:
  return err;
}

void er_encoder_release_backward_T(er_encoder_T *e) {
  ENCODER_SCRATCH(ER_BUF_FREE)
  eval_plan_free(e); /* the subset forward borrows dh as scratch */
  er_mem_trim();
}

er_err er_encoder_backward_T(er_encoder_T *e, const REAL *dZ) {
  er_err err = ER_OK;
  ER_CHECK(e->dh != NULL, ER_ERR_INTERNAL, "encoder backward after its scratch was released");
  er_encoder_layout *lay = &e->lay;
  const REAL *p = e->params;
  REAL *gr = e->grads;
  int64_t n = e->n_own, H = lay->heads, hid = lay->hidden, C1 = hid / H, d = lay->embed;
  //---- layer 2 ----
  /* dL/do2 into o2 (which may hold dZ itself) through ReLU and the row L1 normalization */
  relu_l1_backward(e->o2, dZ, e->zl, e->n2, n, d);
  /* db2: column sums of do2, in double */
  memset(e->bacc, 0, (size_t)d * sizeof(double));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k) e->bacc[k] += e->o2[i * d + k];
  for (int64_t k = 0; k < d; ++k) gr[lay->b2 + k] += (REAL)e->bacc[k];
  /* dW2 += u2^T do2, du2 = do2 W2^T (into d1) */
  memset(e->d1, 0, (size_t)n * hid * sizeof(REAL));
  ER_CALL(er_linear_backward_T(e->d1, gr + lay->W2, e->o2, e->u2, p + lay->W2, n, hid, d));
  REAL *dvs = e->v2 + 2 * hid, *dvd = e->v2 + 3 * hid;
  memset(dvs, 0, (size_t)(2 * hid) * sizeof(REAL));
  ER_CALL(gat_layer_backward(e, e->dh, dvs, dvd, NULL, e->d1, e->a1, e->a1b, e->v2, e->v2 + hid,
                             e->c2, 1, (int)hid));
  /* vs2 = W2 a_src2: dW2 += dvs2 a_src2^T, da_src2 += W2^T dvs2 (likewise for a_dst2) */
  for (int64_t r = 0; r < hid; ++r) {
    const REAL *w = p + lay->W2 + r * d;
    REAL *gw = gr + lay->W2 + r * d, s = dvs[r], t = dvd[r];
    for (int64_t k = 0; k < d; ++k) {
      gw[k] += s * p[lay->as2 + k] + t * p[lay->ad2 + k];
      gr[lay->as2 + k] += s * w[k];
      gr[lay->ad2 + k] += t * w[k];
    }
  }
  //---- layer 1 ----
  /* dh's owned rows = dL/da1 -> through L1 and LeakyReLU (a1 shares o1's sign) into d1 */
  lrelu_l1_backward(e->d1, e->dh, e->a1, e->n1, (REAL)0.01, n, hid);
  ER_CALL(gat_layer_backward(e, e->dh, gr + lay->as1, gr + lay->ad1, gr + lay->b1, e->d1, e->h1,
                             e->h1b, p + lay->as1, p + lay->ad1, e->c1, (int)H, (int)C1));
#if ER_ENC_SPARSE
  if (e->sparse) er_spmm_backward_w(gr + lay->W1, e->xsin, e->dh, lay->hidden);
#endif
  if (!e->sparse)
    ER_CALL(er_linear_backward_T(NULL, gr + lay->W1, e->dh, e->xin, p + lay->W1, n, lay->F, hid));
cleanup:
  return err;
}
